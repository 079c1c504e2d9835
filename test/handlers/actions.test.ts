import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { eventActions, emittedEventId } from '../../src/actions/event-actions.ts'
import { handlerActions } from '../../src/actions/handler-actions.ts'
import { makeSuspension, type ActionContext, type ActionDefinition } from '../../src/core/action.ts'
import { NonRetryableError } from '../../src/core/errors.ts'
import type { EventPublisher, PublishedEvent, PublishOptions } from '../../src/core/publisher-port.ts'
import { HandlerRegistry } from '../../src/mesh/handler-registry.ts'

const FIXTURES = resolve(import.meta.dirname, 'fixtures')

function context(idempotencyKey = 'run-1:escalate:0', signal = new AbortController().signal): ActionContext {
  const [runId = 'run-1', stepId = 'escalate'] = idempotencyKey.split(':')
  return {
    signal,
    idempotencyKey,
    logger: { info() {}, warn() {}, error() {} },
    run: { id: runId, workflow: 'wf', version: 1, attempt: 1 },
    step: { id: stepId, iteration: 0, attempt: 1 },
    suspend: makeSuspension,
    context: () => ({ trigger: {}, steps: {} }),
  }
}

const run = (action: ActionDefinition, params: Record<string, unknown>, ctx = context()) =>
  Promise.resolve(action.execute(params, ctx))

async function handlerCall(): Promise<ActionDefinition> {
  const registry = await HandlerRegistry.load(
    { kernel: { module: './class-kernel.ts' }, named: { module: './named-kernel.ts' } },
    FIXTURES,
  )
  const [call] = handlerActions(registry)
  return call!
}

test('handler.call: declared with side effects and a target pattern', async () => {
  const call = await handlerCall()
  assert.equal(call.type, 'handler.call')
  assert.equal(call.sideEffects, true)
  const target = (call.params.properties as Record<string, { pattern: string }>).target!
  assert.ok(new RegExp(target.pattern).test('avn_core.escalate_healing'))
  assert.ok(!new RegExp(target.pattern).test('avn_core'))
})

test('handler.call: an object result is the output; anything else is wrapped as { result }', async () => {
  const call = await handlerCall()
  assert.deepEqual(await run(call, { target: 'named.ping', args: { n: 41 } }), { pong: 42 })
  assert.deepEqual(await run(call, { target: 'kernel.list' }), { result: ['a', 'b'] })
  assert.deepEqual(await run(call, { target: 'kernel.nothing' }), { result: null })
})

test('handler.call: passes the idempotency key and honours its own timeout', async () => {
  const call = await handlerCall()
  assert.deepEqual(await run(call, { target: 'kernel.greet', args: { name: 'ada' } }, context('r9:s:2')), {
    greeting: 'k:ada',
    key: 'r9:s:2',
  })
  await assert.rejects(
    run(call, { target: 'kernel.hang', timeout: '20ms' }),
    /kernel\.hang timed out after 20ms/,
  )
  await assert.rejects(run(call, { target: 'kernel.hang', timeout: 'soon' }), NonRetryableError)
})

test('handler.call: an unknown target fails without retry', async () => {
  const call = await handlerCall()
  await assert.rejects(run(call, { target: 'avn_core.escalate_healing' }), NonRetryableError)
})

/** The publisher port, recording what it was given and answering like the ingest would. */
function fakePublisher(answer?: (e: PublishedEvent) => Awaited<ReturnType<EventPublisher['publish']>>) {
  const published: Array<{ event: PublishedEvent; options?: PublishOptions }> = []
  const publisher: EventPublisher = {
    async publish(event, options) {
      published.push({ event, ...(options ? { options } : {}) })
      return answer ? answer(event) : { id: event.id ?? 'generated', accepted: true }
    },
  }
  return { publisher, published }
}

test('event.emit: publishes the event with an id derived from the idempotency key and the step that caused it', async () => {
  const { publisher, published } = fakePublisher()
  const [emit] = eventActions(publisher)
  assert.equal(emit!.sideEffects, true)
  const data = { component_id: 'ingress_kernel', escalation_level: 'AVN_CORE', trigger_event: { id: 'e1' } }
  const out = await run(emit!, { type: 'healing.escalation_requested', data, subject: 'ingress_kernel' })
  const id = emittedEventId('run-1:escalate:0')
  assert.match(id, /^hs-[0-9a-f]{32}$/)
  assert.deepEqual(out, { id, type: 'healing.escalation_requested' })
  assert.deepEqual(published, [
    {
      event: { type: 'healing.escalation_requested', id, data, subject: 'ingress_kernel' },
      options: { causedBy: { runId: 'run-1', stepId: 'escalate' } },
    },
  ])
})

test('event.emit: a retried step publishes the same id again (the ingest deduplicates); another step, another id', async () => {
  const { publisher, published } = fakePublisher()
  const [emit] = eventActions(publisher)
  await run(emit!, { type: 'a.b' }, context('run-1:announce:0'))
  await run(emit!, { type: 'a.b' }, context('run-1:announce:0'))
  await run(emit!, { type: 'a.b' }, context('run-1:announce:1'))
  await run(emit!, { type: 'a.b' }, context('run-2:announce:0'))
  const ids = published.map((p) => p.event.id)
  assert.equal(ids[0], ids[1])
  assert.equal(new Set(ids).size, 3)
})

test('event.emit: an event the ingest rejects fails the step without retry, listing the problems', async () => {
  const { publisher } = fakePublisher((e) => ({
    id: e.id!,
    accepted: false,
    problems: [{ pointer: '/data/score', message: 'must be number' }],
  }))
  const [emit] = eventActions(publisher)
  await assert.rejects(
    run(emit!, { type: 'test_quality.healing_required', data: { score: 'low' }, source: '/svc' }),
    (err: Error) =>
      err instanceof NonRetryableError &&
      err.message === 'event test_quality.healing_required was rejected: /data/score: must be number',
  )
})
