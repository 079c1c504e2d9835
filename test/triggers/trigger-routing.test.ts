import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CloudEvent } from '../../src/core/event.ts'
import type { TriggerSpec, WorkflowDoc } from '../../src/core/workflow.ts'
import { Router, type RouteEntry } from '../../src/mesh/router.ts'
import { pause, runsOf, serveProject, settledRuns, triggerProject } from './trigger-project.ts'

function entry(id: string, triggers: TriggerSpec[], enabled = true): RouteEntry {
  const doc: WorkflowDoc = { id, triggers, steps: [{ id: 'a', uses: 'data.set' }] }
  return { workflowId: id, version: 1, enabled, doc }
}

function event(type: string, data: unknown): CloudEvent {
  return { specversion: '1.0', id: `e-${Math.random()}`, source: '/test', type, data }
}

const router = new Router()
const problems = router.load([
  entry('docs', [
    { type: 'schedule', id: 'nightly', cron: '0 3 * * *' },
    { type: 'schedule', cron: '0 4 * * *' },
  ]),
  entry('other-schedule', [{ type: 'schedule', id: 'nightly', cron: '0 3 * * *' }]),
  entry('review', [{ type: 'file_change', paths: ['src/**'] }]),
  entry('hook', [{ type: 'webhook', id: 'deploy', path: 'deploy', filter: { ref: 'main' } }]),
  entry('plugin', [{ type: 'mqtt_message', id: 'm', topic: 'a/b' }]),
  entry('off', [{ type: 'schedule', id: 'nightly', cron: '0 3 * * *' }], false),
  entry('muted', [{ type: 'schedule', id: 'nightly', cron: '0 3 * * *', enabled: false }]),
  entry('all', [{ type: 'event', event: '*' }]),
  entry('greedy', [{ type: 'event', event: 'schedule.tick' }]),
  entry('by-hand', [{ type: 'manual' }]),
])

test('a targeted event starts only the trigger it names; wildcard subscribers never see it', () => {
  const tick = event('schedule.tick', {
    workflow_id: 'docs',
    trigger_id: 'nightly',
    scheduled_at: '2026-01-01T03:00:00.000Z',
  })
  const decision = router.route(tick)
  assert.deepEqual(
    decision.matched.map((m) => [m.workflowId, m.triggerIndex]),
    [['docs', 0]],
  )
  assert.deepEqual(decision.skipped, [])
  assert.deepEqual(decision.matched[0]!.context, {
    triggerType: 'schedule',
    triggerId: 'nightly',
    scheduledAt: '2026-01-01T03:00:00.000Z',
  })
  // the id-less second trigger is known by its index
  assert.deepEqual(
    router
      .route(event('schedule.tick', { workflow_id: 'docs', trigger_id: '1' }))
      .matched.map((m) => m.triggerIndex),
    [1],
  )
  // the same trigger id in another workflow is another trigger
  assert.deepEqual(
    router
      .route(event('schedule.tick', { workflow_id: 'other-schedule', trigger_id: 'nightly' }))
      .matched.map((m) => m.workflowId),
    ['other-schedule'],
  )
  // file changes, plugin events: the same convention
  const change = router.route(
    event('file.changed', { workflow_id: 'review', trigger_id: '0', event: 'change', file_path: 'src/a.ts' }),
  )
  assert.deepEqual(change.matched[0]!.context, {
    triggerType: 'file_change',
    triggerId: '0',
    event: 'change',
    filePath: 'src/a.ts',
  })
  assert.equal(
    router.route(event('trigger.mqtt_message', { workflow_id: 'plugin', trigger_id: 'm' })).matched.length,
    1,
  )
})

test('a webhook event obeys its trigger filter; disabled workflows and triggers are skipped with the reason', () => {
  const hook = (ref: string) =>
    router.route(event('webhook.received', { workflow_id: 'hook', trigger_id: 'deploy', ref }))
  assert.equal(hook('main').matched.length, 1)
  assert.deepEqual(
    hook('dev').skipped.map((s) => s.reason),
    ['filter_false'],
  )
  assert.deepEqual(
    router
      .route(event('schedule.tick', { workflow_id: 'off', trigger_id: 'nightly' }))
      .skipped.map((s) => [s.workflowId, s.reason]),
    [['off', 'disabled']],
  )
  const muted = router.route(event('schedule.tick', { workflow_id: 'muted', trigger_id: 'nightly' }))
  assert.deepEqual(
    muted.skipped.map((s) => [s.workflowId, s.reason, s.triggerIndex]),
    [['muted', 'disabled', 0]],
  )
})

test('targeted events naming nothing, or a trigger that is not there, start nothing and say why', () => {
  assert.deepEqual(router.route(event('schedule.tick', {})), {
    eventType: 'schedule.tick',
    matched: [],
    skipped: [],
  })
  assert.deepEqual(router.route(event('schedule.tick', { workflow_id: 'docs' })).matched, [])
  const missing = router.route(event('schedule.tick', { workflow_id: 'docs', trigger_id: 'hourly' }))
  assert.equal(missing.skipped[0]!.reason, 'target_missing')
  assert.match(missing.skipped[0]!.detail, /trigger `hourly` of workflow `docs`, which has no such trigger/)
  const wrongType = router.route(event('file.changed', { workflow_id: 'docs', trigger_id: 'nightly' }))
  assert.match(wrongType.skipped[0]!.detail, /is a `schedule` trigger: `file.changed` events do not start it/)
  const gone = router.route(event('schedule.tick', { workflow_id: 'removed', trigger_id: 'x' }))
  assert.match(gone.skipped[0]!.detail, /no such workflow is loaded/)
  // a user event of a targeted type cannot start an event trigger that subscribes to it
  assert.ok(
    problems.some((p) => p.workflowId === 'greedy' && /`schedule.tick` events are targeted/.test(p.message)),
    JSON.stringify(problems),
  )
})

test('explain names every other workflow as not targeted', () => {
  const decision = router.explain(event('schedule.tick', { workflow_id: 'docs', trigger_id: 'nightly' }))
  assert.deepEqual(
    decision.matched.map((m) => m.workflowId),
    ['docs'],
  )
  const reasons = Object.fromEntries(decision.skipped.map((s) => [s.workflowId, s.reason]))
  assert.deepEqual(reasons, {
    'other-schedule': 'not_targeted',
    review: 'not_targeted',
    hook: 'not_targeted',
    plugin: 'not_targeted',
    off: 'not_targeted',
    muted: 'not_targeted',
    all: 'not_targeted',
    greedy: 'not_targeted',
    'by-hand': 'not_targeted',
  })
  assert.match(decision.skipped[0]!.detail, /is for trigger `nightly` of workflow `docs` only/)
  const off = router.explain(event('schedule.tick', { workflow_id: 'off', trigger_id: 'nightly' }))
  assert.match(
    off.skipped.find((s) => s.workflowId === 'off')!.detail,
    /disabled; trigger 1 would start it otherwise/,
  )
  // an ordinary event: schedule-only workflows say how they start
  const other = router.explain(event('kpi.breach', {}))
  const docs = other.skipped.find((s) => s.workflowId === 'docs')!
  assert.equal(docs.reason, 'no_event_trigger')
  assert.match(
    docs.detail,
    /its triggers are schedule \(schedule triggers start it only through events that name them\)/,
  )
  assert.match(
    other.skipped.find((s) => s.workflowId === 'by-hand')!.detail,
    /its triggers are manual \(manual: run by hand\)/,
  )
  assert.deepEqual(
    other.matched.map((m) => m.workflowId),
    ['all'],
  )
})

const EVERY_SECOND = (id: string) => `id: ${id}
triggers:
  - type: schedule
    cron: '*/1 * * * * *'
steps:
  - id: a
    uses: data.set
    with: { at: "{{ trigger.scheduledAt }}" }
`

test(
  'two workflows with schedule triggers on a real server: a tick of one never starts the other',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({
      'fast.yaml': EVERY_SECOND('fast'),
      'yearly.yaml': `id: yearly
triggers:
  - type: schedule
    cron: '0 0 1 1 *'
  - type: event
    event: 'schedule.*'
steps:
  - id: a
    uses: data.set
`,
    })
    const { app, server } = await serveProject(project)
    try {
      const runs = await settledRuns(app, 'fast', 2)
      await pause(100)
      assert.equal(
        (await runsOf(app, 'yearly')).length,
        0,
        'neither its schedule nor its `schedule.*` subscription saw the ticks',
      )
      const seq = runs[0]!.trigger.eventSeq as number
      const decision = (await app.mesh.routingDecision(seq))!
      assert.deepEqual(
        (decision.matched as Array<{ workflowId: string }>).map((m) => m.workflowId),
        ['fast'],
      )
      // the API explains a stored tick: the other workflow is named, with the reason
      const stored = (await app.mesh.getEvent(seq))!
      const res = await fetch(`${server.url}/api/explain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(stored.event),
      })
      const explained = (await res.json()) as {
        decision?: { skipped: Array<{ workflowId: string; reason: string }> }
      }
      assert.deepEqual(explained.decision?.skipped, [
        {
          workflowId: 'yearly',
          version: 1,
          reason: 'not_targeted',
          detail: `this \`schedule.tick\` event is for trigger \`0\` of workflow \`fast\` only`,
        },
      ])
    } finally {
      await server.stop()
    }
  },
)

test(
  'targeted events cannot be forged through POST /events (a webhook event would skip its signature check)',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({
      'hook.yaml': `id: hooked
triggers:
  - { type: webhook, path: deploy, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw }
steps:
  - { id: a, uses: data.set }
`,
    })
    const { app, server } = await serveProject(project)
    try {
      for (const type of ['webhook.received', 'schedule.tick', 'file.changed', 'trigger.queue_message']) {
        const res = await fetch(`${server.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type, data: { workflow_id: 'hooked', trigger_id: '0', body: {} } }),
        })
        const problem = (await res.json()) as { errors?: Array<{ pointer: string; message: string }> }
        assert.equal(res.status, 400, type)
        assert.equal(problem.errors?.[0]?.pointer, '/type')
        assert.match(
          problem.errors![0]!.message,
          /published by homeostat's own triggers .* not through POST \/events/,
        )
      }
      await pause(100)
      assert.equal((await runsOf(app, 'hooked')).length, 0)
      assert.equal((await app.mesh.recentEvents({})).length, 0, 'nothing was stored')
    } finally {
      await server.stop()
    }
  },
)
