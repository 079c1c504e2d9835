import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NonRetryableError, RetryAfterError } from '../../src/core/errors.ts'
import type { WorkflowDoc } from '../../src/core/workflow.ts'
import { harness } from '../helpers/engine-harness.ts'

const hello: WorkflowDoc = {
  id: 'hello',
  inputs: { name: { type: 'string', default: 'world' } },
  variables: { greeting: 'Hello' },
  steps: [
    { id: 'compose', uses: 'data.set', with: { message: "{{ vars.greeting + ', ' + inputs.name }}" } },
    {
      id: 'shout',
      needs: ['compose'],
      uses: 'data.set',
      with: {
        loud: "{{ steps.compose.output.message + '!' }}",
        length: '{{ size(steps.compose.output.message) }}',
      },
    },
  ],
}

test('a chain runs in order with typed templates, and its output is the last step', async () => {
  const h = await harness()
  await h.deploy(hello)
  const runId = await h.start('hello', { name: 'Ada' })
  const run = await h.settled(runId)
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(run.output, { loud: 'Hello, Ada!', length: 10 })
  const attempts = await h.attempts(runId)
  assert.deepEqual(
    attempts.map((a) => [a.stepId, a.status, a.attempt]),
    [
      ['compose', 'succeeded', 1],
      ['shout', 'succeeded', 1],
    ],
  )
  assert.deepEqual(attempts[0]!.input, { message: 'Hello, Ada' })
  assert.ok(attempts.every((a) => a.durationMs !== undefined && a.endedAt !== undefined))
  const defaults = await h.settled(await h.start('hello'))
  assert.deepEqual(defaults.output, { loud: 'Hello, world!', length: 12 })
})

test('inputs are checked against the workflow schema before a run is queued', async () => {
  const h = await harness()
  await h.deploy({ ...hello, id: 'typed', inputs: { count: { type: 'integer', minimum: 1 } } })
  await assert.rejects(
    h.start('typed', { count: 0 }),
    /inputs of typed: \/inputs\/count must be >= 1 \(got 0\)/,
  )
  await assert.rejects(h.start('typed', { count: 2, extra: 1 }), /\/inputs\/extra is not allowed here/)
  await assert.rejects(h.start('typed', {}), /\/inputs\/count is required/)
  assert.equal((await h.store.listRuns({})).length, 0)
})

test('independent branches run in parallel and a join waits for both', async () => {
  const h = await harness()
  await h.deploy({
    id: 'diamond',
    steps: [
      { id: 'a', uses: 'data.set', with: { v: 1 } },
      { id: 'b', needs: ['a'], uses: 'wait.sleep', with: { duration: '150ms' } },
      { id: 'c', needs: ['a'], uses: 'wait.sleep', with: { duration: '150ms' } },
      {
        id: 'd',
        needs: ['b', 'c'],
        uses: 'data.set',
        with: { both: '{{ steps.b.output.sleptMs + steps.c.output.sleptMs }}' },
      },
    ],
  })
  const runId = await h.start('diamond')
  const run = await h.settled(runId)
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(run.output, { both: 300 })
  const order = h.events
    .filter((e) => e.runId === runId && (e.type === 'step.started' || e.type === 'step.completed'))
    .map((e) => `${e.type}:${(e as { stepId: string }).stepId}`)
  // b and c both start before either completes: they overlap
  assert.ok(order.indexOf('step.started:c') < order.indexOf('step.completed:b'), order.join(' '))
  assert.ok(order.indexOf('step.started:b') < order.indexOf('step.completed:c'), order.join(' '))
  assert.ok(order.indexOf('step.started:d') > order.indexOf('step.completed:b'))
})

test('edge conditions: failure handlers run, skips cascade, on_error continue lets the run succeed', async () => {
  const h = await harness()
  await h.deploy({
    id: 'edges',
    steps: [
      { id: 'risky', uses: 'fail', with: { message: 'disk full', retryable: false } },
      { id: 'next', needs: ['risky'], uses: 'data.set', with: {} },
      { id: 'after_next', needs: ['next'], uses: 'data.set', with: {} },
      {
        id: 'handler',
        needs: [{ step: 'risky', when: 'failure' }],
        uses: 'data.set',
        with: { why: '{{ steps.risky.error.message }}' },
      },
      {
        id: 'cleanup',
        needs: [{ step: 'risky', when: 'always' }],
        uses: 'data.set',
        with: { s: '{{ steps.risky.status }}' },
      },
      {
        id: 'expr',
        needs: [{ step: 'handler', when: "steps.handler.output.why == 'disk full'" }],
        uses: 'data.set',
        with: { ok: true },
      },
    ],
  })
  const run = await h.settled(await h.start('edges'))
  assert.equal(run.status, 'failed')
  assert.match(run.error!.message, /risky failed: disk full/)
  const by = Object.fromEntries((await h.attempts(run.id)).map((a) => [a.stepId, a]))
  assert.equal(by.risky!.status, 'failed')
  assert.equal(by.next!.status, 'skipped')
  assert.match((by.next!.detail as { reason: string }).reason, /needs risky when success, but risky failed/)
  assert.equal(by.after_next!.status, 'skipped')
  assert.deepEqual(by.handler!.output, { why: 'disk full' })
  assert.deepEqual(by.cleanup!.output, { s: 'failed' })
  assert.deepEqual(by.expr!.output, { ok: true })

  await h.deploy({
    id: 'tolerant',
    steps: [
      { id: 'risky', uses: 'fail', with: { retryable: false }, on_error: 'continue' },
      { id: 'next', needs: ['risky'], uses: 'data.set', with: { ran: true } },
    ],
  })
  const ok = await h.settled(await h.start('tolerant'))
  assert.equal(ok.status, 'succeeded')
  assert.deepEqual(ok.output, { ran: true })
})

test('if false skips a step with its reason', async () => {
  const h = await harness()
  await h.deploy({
    id: 'cond',
    inputs: { n: { type: 'integer', default: 1 } },
    steps: [
      { id: 'big', if: 'inputs.n > 10', uses: 'data.set', with: { size: 'big' } },
      { id: 'small', if: 'inputs.n <= 10', uses: 'data.set', with: { size: 'small' } },
    ],
  })
  const run = await h.settled(await h.start('cond', { n: 3 }))
  assert.deepEqual(run.output, { small: { size: 'small' } })
  const big = (await h.attempts(run.id)).find((a) => a.stepId === 'big')!
  assert.equal(big.status, 'skipped')
  assert.match((big.detail as { reason: string }).reason, /if `inputs.n > 10` was false/)
})

test('foreach runs once per item with item and index, keeping order under concurrency', async () => {
  const h = await harness()
  await h.deploy({
    id: 'loop',
    steps: [
      { id: 'list', uses: 'data.set', with: { names: ['a', 'b', 'c', 'd'] } },
      {
        id: 'each',
        needs: ['list'],
        foreach: 'steps.list.output.names',
        concurrency: 2,
        uses: 'data.set',
        with: { label: '{{ string(index) + ":" + item }}' },
      },
    ],
  })
  const run = await h.settled(await h.start('loop'))
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(run.output, [{ label: '0:a' }, { label: '1:b' }, { label: '2:c' }, { label: '3:d' }])
  const rows = (await h.attempts(run.id)).filter((a) => a.stepId === 'each')
  assert.deepEqual(
    rows.map((r) => r.iteration).sort((a, b) => a - b),
    [-1, 0, 1, 2, 3],
  )
  assert.deepEqual(
    rows
      .filter((r) => r.iteration >= 0)
      .map((r) => r.idempotencyKey)
      .sort((a, b) => a!.localeCompare(b!)),
    [0, 1, 2, 3].map((i) => `${run.id}:each:${i}`),
  )
})

test('retries with backoff; NonRetryableError stops at once; RetryAfterError sets the delay', async () => {
  let calls = 0
  let flakyCalls = 0
  const keys = new Set<string>()
  const h = await harness({
    register: (r) =>
      r
        .register({
          type: 'test.flaky',
          description: 'fails twice then succeeds',
          params: { type: 'object' },
          sideEffects: true,
          execute: (_p, ctx) => {
            keys.add(ctx.idempotencyKey)
            flakyCalls++
            if (flakyCalls < 3) throw new Error(`flake ${flakyCalls}`)
            return { after: flakyCalls }
          },
        })
        .register({
          type: 'test.ratelimited',
          description: 'asks to come back later',
          params: { type: 'object' },
          sideEffects: false,
          execute: () => {
            calls++
            if (calls === 1) throw new RetryAfterError('slow down', 5)
            if (calls === 2) throw new NonRetryableError('bad credentials')
            return {}
          },
        }),
  })
  await h.deploy({
    id: 'retrying',
    steps: [
      {
        id: 'flaky',
        uses: 'test.flaky',
        retry: { attempts: 3, backoff: 'exponential', delay: '10ms', max_delay: '40ms' },
      },
      { id: 'limited', needs: ['flaky'], uses: 'test.ratelimited', retry: { attempts: 5, delay: '10s' } },
    ],
  })
  const run = await h.settled(await h.start('retrying'))
  assert.equal(run.status, 'failed')
  const rows = await h.attempts(run.id)
  assert.deepEqual(
    rows.filter((r) => r.stepId === 'flaky').map((r) => [r.attempt, r.status]),
    [
      [1, 'failed'],
      [2, 'failed'],
      [3, 'succeeded'],
    ],
  )
  assert.deepEqual([...keys], [`${run.id}:flaky:0`], 'one idempotency key across retries')
  const limited = rows.filter((r) => r.stepId === 'limited')
  assert.deepEqual(
    limited.map((r) => [r.attempt, r.status]),
    [
      [1, 'failed'],
      [2, 'failed'],
    ],
  )
  assert.equal(
    (limited[0]!.detail as { retryInMs: number }).retryInMs,
    5,
    'Retry-After delay used instead of 10s backoff',
  )
  assert.equal(limited[1]!.error?.retryable, false)
  assert.equal(calls, 2)
})

test('a step timeout aborts the action through its AbortSignal', async () => {
  let aborted: unknown
  const h = await harness({
    register: (r) =>
      r.register({
        type: 'test.hang',
        description: 'waits for abort',
        params: { type: 'object' },
        sideEffects: false,
        execute: (_p, ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason
              reject(new Error('aborted'))
            }),
          ),
      }),
  })
  await h.deploy({ id: 'slow', steps: [{ id: 'hang', uses: 'test.hang', timeout: '50ms' }] })
  const run = await h.settled(await h.start('slow'))
  assert.equal(run.status, 'failed')
  const [row] = await h.attempts(run.id)
  assert.equal(row!.error?.name, 'StepTimeoutError')
  assert.match(row!.error!.message, /timed out after 50ms/)
  assert.equal((aborted as Error).name, 'StepTimeoutError')
})

test('a run timeout ends the run as timed_out and aborts running steps', async () => {
  const h = await harness()
  await h.deploy({
    id: 'long',
    settings: { timeout: '80ms' },
    steps: [{ id: 'nap', uses: 'wait.sleep', with: { duration: '10s' } }],
  })
  const run = await h.settled(await h.start('long'))
  assert.equal(run.status, 'timed_out')
  assert.equal(run.error?.code, 'HS_ERR_RUN_TIMEOUT')
  const [row] = await h.attempts(run.id)
  assert.equal(row!.status, 'cancelled')
})

test('cancel aborts a running run; pause lets the running step finish and starts nothing new; resume completes', async () => {
  const h = await harness()
  await h.deploy({
    id: 'two',
    steps: [
      { id: 'first', uses: 'wait.sleep', with: { duration: '150ms' } },
      { id: 'second', needs: ['first'], uses: 'data.set', with: { done: true } },
    ],
  })
  const cancelled = await h.start('two')
  await h.settled(cancelled, ['running'])
  await new Promise((r) => setTimeout(r, 30))
  await h.runs.cancel(cancelled)
  const c = await h.settled(cancelled)
  assert.equal(c.status, 'cancelled')
  assert.deepEqual(
    (await h.attempts(cancelled)).map((a) => [a.stepId, a.status]),
    [['first', 'cancelled']],
  )

  const paused = await h.start('two')
  await h.settled(paused, ['running'])
  await new Promise((r) => setTimeout(r, 30))
  await h.runs.pause(paused)
  const p = await h.settled(paused)
  assert.equal(p.status, 'paused')
  assert.deepEqual(
    (await h.attempts(paused)).map((a) => [a.stepId, a.status]),
    [['first', 'succeeded']],
    'first finished, second not started',
  )
  await h.runs.resume(paused)
  const done = await h.settled(paused, ['succeeded', 'failed'])
  assert.equal(done.status, 'succeeded')
  assert.deepEqual(
    (await h.attempts(paused)).map((a) => [a.stepId, a.status]),
    [
      ['first', 'succeeded'],
      ['second', 'succeeded'],
    ],
  )
})

test('a failed run is retried from its failed steps; succeeded steps are not executed again', async () => {
  const executed: string[] = []
  let healthy = false
  const h = await harness({
    register: (r) =>
      r.register({
        type: 'test.track',
        description: 'records executions; fails while unhealthy when asked to',
        params: {
          type: 'object',
          properties: { name: { type: 'string' }, needsHealth: { type: 'boolean' } },
        },
        sideEffects: true,
        execute: (p: { name?: string; needsHealth?: boolean }) => {
          executed.push(p.name!)
          if (p.needsHealth && !healthy) throw new NonRetryableError('service down')
          return { name: p.name }
        },
      }),
  })
  await h.deploy({
    id: 'fragile',
    steps: [
      { id: 'a', uses: 'test.track', with: { name: 'a' } },
      { id: 'b', needs: ['a'], uses: 'test.track', with: { name: 'b', needsHealth: true } },
      { id: 'c', needs: ['b'], uses: 'test.track', with: { name: 'c' } },
    ],
  })
  const runId = await h.start('fragile')
  assert.equal((await h.settled(runId)).status, 'failed')
  healthy = true
  await h.runs.retry(runId)
  const run = await h.settled(runId, ['succeeded', 'failed'])
  assert.equal(run.status, 'succeeded')
  assert.equal(run.attempt, 2)
  assert.deepEqual(executed, ['a', 'b', 'b', 'c'])
  const rows = await h.attempts(runId)
  assert.deepEqual(
    rows.filter((r) => r.stepId === 'b').map((r) => [r.attempt, r.runAttempt, r.status]),
    [
      [1, 1, 'failed'],
      [2, 2, 'succeeded'],
    ],
  )
})

test('a step suspends its run until a signal arrives, without holding a worker; a timeout fails it', async () => {
  const h = await harness()
  await h.deploy({
    id: 'approval',
    steps: [
      { id: 'ask', uses: 'wait.signal', with: { name: 'approved' } },
      { id: 'go', needs: ['ask'], uses: 'data.set', with: { by: '{{ steps.ask.output.by }}' } },
    ],
  })
  const runId = await h.start('approval')
  const waiting = await h.settled(runId)
  assert.equal(waiting.status, 'waiting')
  assert.equal(h.engine.activeRuns, 0, 'a waiting run holds no worker')
  await h.runs.signal(runId, 'approved', { by: 'ada' })
  const run = await h.settled(runId, ['succeeded', 'failed'])
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(run.output, { by: 'ada' })

  await h.deploy({
    id: 'impatient',
    steps: [{ id: 'ask', uses: 'wait.signal', with: { name: 'never', timeout: '60ms' } }],
  })
  const late = await h.settled(await h.start('impatient'), ['succeeded', 'failed'])
  assert.equal(late.status, 'failed')
  assert.match(late.error!.message, /no signal never before the timeout/)
})

test('a run executes the workflow version it started with, even after a new version is stored', async () => {
  const h = await harness()
  const v1 = await h.deploy({
    id: 'pinned',
    steps: [
      { id: 'gate', uses: 'wait.signal', with: { name: 'go' } },
      { id: 'say', needs: ['gate'], uses: 'data.set', with: { v: 1 } },
    ],
  })
  const runId = await h.start('pinned')
  await h.settled(runId)
  const v2 = await h.deploy({
    id: 'pinned',
    steps: [
      { id: 'gate', uses: 'wait.signal', with: { name: 'go' } },
      { id: 'say', needs: ['gate'], uses: 'data.set', with: { v: 2 } },
    ],
  })
  assert.deepEqual([v1, v2], [1, 2])
  await h.runs.signal(runId, 'go', null)
  const run = await h.settled(runId, ['succeeded', 'failed'])
  assert.equal(run.workflowVersion, 1)
  assert.deepEqual(run.output, { v: 1 })
})

test('a run left running by a dead worker resumes from its last completed step', async () => {
  const executed: string[] = []
  const h = await harness({
    register: (r) =>
      r.register({
        type: 'test.effect',
        description: 'records executions',
        params: { type: 'object', properties: { name: { type: 'string' } } },
        sideEffects: true,
        execute: (p: { name?: string }, ctx) => {
          executed.push(`${p.name}@${ctx.idempotencyKey.split(':').slice(1).join(':')}`)
          return { name: p.name }
        },
      }),
  })
  await h.deploy({
    id: 'resumable',
    steps: [
      { id: 'one', uses: 'test.effect', with: { name: 'one' } },
      { id: 'two', needs: ['one'], uses: 'test.effect', with: { name: 'two' } },
      { id: 'three', needs: ['two'], uses: 'test.effect', with: { name: 'three' } },
    ],
  })
  // simulate the dead worker: it claimed the run, finished `one`, started `two`, then vanished
  await h.engine.stop({ graceMs: 10 })
  const wf = (await h.store.getWorkflowVersion('resumable'))!
  await h.store.enqueueRuns([
    {
      id: 'run-dead',
      workflowId: 'resumable',
      workflowVersion: wf.version,
      trigger: { type: 'manual' },
      inputs: {},
      createdAt: 1,
    },
  ])
  await h.store.registerWorker({ id: 'ghost', host: 'elsewhere', pid: 1, startedAt: 1, heartbeatAt: 1 })
  await h.store.claimRuns('ghost', 1, Date.now(), 60_000)
  const row = { runId: 'run-dead', iteration: 0, attempt: 1, runAttempt: 1, startedAt: 2 }
  await h.store.commitProgress('ghost', [
    {
      op: 'attempt',
      row: { ...row, stepId: 'one', status: 'succeeded', output: { name: 'one' }, endedAt: 3, durationMs: 1 },
    },
    { op: 'attempt', row: { ...row, stepId: 'two', status: 'running', idempotencyKey: 'run-dead:two:0' } },
  ])
  const engine = h.newEngine({ leaseMs: 60_000 })
  await engine.start() // the ghost's heartbeat is ancient: its leases are released at start
  const run = await h.settled('run-dead', ['succeeded', 'failed'])
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(
    executed,
    ['two@two:0', 'three@three:0'],
    'one is not executed again; two is retried with the same key',
  )
  const two = (await h.attempts('run-dead')).filter((a) => a.stepId === 'two')
  assert.deepEqual(
    two.map((a) => [a.attempt, a.status]),
    [
      [1, 'interrupted'],
      [2, 'succeeded'],
    ],
  )
})

test('workflow statistics: executions, success rate, average runtime, last run', async () => {
  const h = await harness()
  await h.deploy(hello)
  await h.deploy({ id: 'bad', steps: [{ id: 'x', uses: 'fail', with: { retryable: false } }] })
  for (let i = 0; i < 3; i++) await h.settled(await h.start('hello'))
  await h.settled(await h.start('bad'))
  const stats = Object.fromEntries((await h.store.listWorkflows()).map((w) => [w.id, w.stats]))
  assert.equal(stats.hello!.executions, 3)
  assert.equal(stats.hello!.successRate, 1)
  assert.equal(stats.bad!.successRate, 0)
  assert.equal(stats.bad!.lastStatus, 'failed')
  assert.ok(stats.hello!.lastRunAt! > 0)
})
