import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { NewRun, Store } from '../../src/core/store-port.ts'
import type { WorkflowDoc } from '../../src/core/workflow.ts'

/**
 * The behaviour every Store implementation promises, written once. A store adapter's test file calls
 * `storeContract('name', factory)`; the PostgreSQL store runs the same suite.
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  const doc = (steps = 1): WorkflowDoc => ({
    id: 'wf',
    name: 'Workflow',
    steps: Array.from({ length: steps }, (_, i) => ({ id: `s${i}`, uses: 'data.set', with: { i } })),
  })
  const newRun = (id: string, now: number, extra: Partial<NewRun> = {}): NewRun => ({
    id,
    workflowId: 'wf',
    workflowVersion: 1,
    trigger: { type: 'manual' },
    inputs: { a: 1 },
    createdAt: now,
    ...extra,
  })

  describe(`store contract: ${name}`, () => {
    test('migrations are idempotent and report the schema version', async () => {
      const store = await open()
      const again = await store.migrate()
      assert.deepEqual(again.applied, [])
      assert.ok(again.version >= 1)
      await store.close()
    })

    test('a workflow version is stored only when its content hash changes', async () => {
      const store = await open()
      const first = await store.putWorkflowVersion(doc(), { hash: 'h1', author: 'ada', now: 1 })
      const same = await store.putWorkflowVersion(doc(), { hash: 'h1', author: 'ada', now: 2 })
      const next = await store.putWorkflowVersion(doc(2), {
        hash: 'h2',
        author: 'bob',
        sourcePath: '/x.yaml',
        now: 3,
      })
      assert.deepEqual(
        [first, same, next],
        [
          { version: 1, created: true },
          { version: 1, created: false },
          { version: 2, created: true },
        ],
      )
      const v1 = await store.getWorkflowVersion('wf', 1)
      assert.equal(v1?.definition.steps.length, 1)
      assert.equal(v1?.definition.version, 1)
      const latest = await store.getWorkflowVersion('wf')
      assert.equal(latest?.version, 2)
      assert.equal(latest?.author, 'bob')
      assert.equal(latest?.sourcePath, '/x.yaml')
      assert.deepEqual(
        (await store.listWorkflowVersions('wf')).map((v) => [v.version, v.hash]),
        [
          [2, 'h2'],
          [1, 'h1'],
        ],
      )
      assert.equal(await store.getWorkflowVersion('nope'), undefined)
      await store.close()
    })

    test('enable and disable are kept', async () => {
      const store = await open()
      await store.putWorkflowVersion(doc(), { hash: 'h1', author: 'ada', now: 1 })
      assert.equal(await store.setWorkflowEnabled('wf', false, 5), true)
      assert.equal((await store.listWorkflows())[0]?.enabled, false)
      assert.equal(await store.setWorkflowEnabled('missing', false, 5), false)
      await store.close()
    })

    test('queued runs are claimed once, oldest first, in batches', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10), newRun('r2', 11), newRun('r3', 12)])
      const a = await store.claimRuns('w1', 2, 100, 30_000)
      assert.deepEqual(
        a.map((c) => c.run.id),
        ['r1', 'r2'],
      )
      assert.equal(a[0]!.run.status, 'running')
      assert.equal(a[0]!.run.startedAt, 100)
      assert.deepEqual(a[0]!.attempts, [])
      const b = await store.claimRuns('w2', 10, 100, 30_000)
      assert.deepEqual(
        b.map((c) => c.run.id),
        ['r3'],
      )
      assert.deepEqual(await store.claimRuns('w2', 10, 100, 30_000), [])
      await store.close()
    })

    test('a run is not claimable before availableAt, nor while its lease is valid', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10, { availableAt: 500 })])
      assert.equal((await store.claimRuns('w1', 5, 100, 1000)).length, 0)
      assert.equal((await store.claimRuns('w1', 5, 500, 1000)).length, 1)
      assert.equal((await store.claimRuns('w2', 5, 1000, 1000)).length, 0, 'lease still valid at 1000')
      const again = await store.claimRuns('w2', 5, 1501, 1000)
      assert.equal(again.length, 1, 'lease expired at 1500')
      assert.equal(again[0]!.run.status, 'running')
      await store.close()
    })

    test('progress is fenced by the lease: a stale owner cannot write', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10)])
      await store.claimRuns('old', 1, 100, 1000)
      await store.claimRuns('new', 1, 2000, 1000) // old lease expired, new owner
      const row = {
        runId: 'r1',
        stepId: 's0',
        iteration: 0,
        attempt: 1,
        runAttempt: 1,
        status: 'succeeded' as const,
        startedAt: 2001,
        output: { x: 1 },
      }
      const stale = await store.commitProgress('old', [{ op: 'attempt', row }])
      assert.deepEqual(stale.lostRuns, ['r1'])
      assert.deepEqual(await store.listStepAttempts('r1'), [])
      const fresh = await store.commitProgress('new', [{ op: 'attempt', row }])
      assert.deepEqual(fresh.lostRuns, [])
      assert.deepEqual(
        (await store.listStepAttempts('r1')).map((a) => a.output),
        [{ x: 1 }],
      )
      await store.close()
    })

    test('attempt rows are upserted and a finished run leaves the queue with stats updated', async () => {
      const store = await open()
      await store.putWorkflowVersion(doc(), { hash: 'h1', author: 'ada', now: 1 })
      await store.enqueueRuns([newRun('r1', 10), newRun('r2', 11)])
      await store.claimRuns('w', 5, 100, 30_000)
      const base = {
        stepId: 's0',
        iteration: 0,
        attempt: 1,
        runAttempt: 1,
        startedAt: 100,
        idempotencyKey: 'r1:s0:0',
      }
      await store.commitProgress('w', [
        { op: 'attempt', row: { ...base, runId: 'r1', status: 'running', input: { i: 0 } } },
        {
          op: 'attempt',
          row: {
            ...base,
            runId: 'r1',
            status: 'succeeded',
            input: { i: 0 },
            output: { ok: true },
            endedAt: 110,
            durationMs: 10,
          },
        },
        {
          op: 'run_finished',
          runId: 'r1',
          workflowId: 'wf',
          status: 'succeeded',
          output: { ok: true },
          endedAt: 120,
          durationMs: 20,
        },
        {
          op: 'run_finished',
          runId: 'r2',
          workflowId: 'wf',
          status: 'failed',
          error: { name: 'Error', message: 'boom' },
          endedAt: 130,
          durationMs: 40,
        },
      ])
      const attempts = await store.listStepAttempts('r1')
      assert.equal(attempts.length, 1)
      assert.equal(attempts[0]!.status, 'succeeded')
      assert.equal(attempts[0]!.idempotencyKey, 'r1:s0:0')
      const r1 = await store.getRun('r1')
      assert.equal(r1?.status, 'succeeded')
      assert.deepEqual(r1?.output, { ok: true })
      assert.equal((await store.getRun('r2'))?.error?.message, 'boom')
      const stats = (await store.listWorkflows())[0]!.stats
      assert.equal(stats.executions, 2)
      assert.equal(stats.successRate, 0.5)
      assert.equal(stats.averageRuntimeMs, 30)
      assert.equal(stats.lastRunAt, 130)
      assert.equal(stats.lastStatus, 'failed')
      assert.deepEqual(await store.claimRuns('w', 5, 100_000, 30_000), [])
      await store.close()
    })

    test('a re-claimed run comes with its history and pending signals', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10)])
      await store.claimRuns('w1', 1, 100, 1000)
      await store.commitProgress('w1', [
        {
          op: 'attempt',
          row: {
            runId: 'r1',
            stepId: 's0',
            iteration: 0,
            attempt: 1,
            runAttempt: 1,
            status: 'waiting',
            startedAt: 100,
            detail: { signal: 'go' },
          },
        },
        { op: 'run_parked', runId: 'r1', status: 'waiting', wakeAt: 10_000 },
      ])
      assert.equal((await store.getRun('r1'))?.status, 'waiting')
      assert.equal((await store.claimRuns('w2', 1, 200, 1000)).length, 0, 'waiting until wakeAt')
      await store.deliverSignal('r1', 'go', { ok: 1 }, 300)
      const [claimed] = await store.claimRuns('w2', 1, 300, 1000)
      assert.equal(claimed?.attempts.length, 1)
      assert.deepEqual(
        claimed?.signals.map((s) => [s.name, s.payload]),
        [['go', { ok: 1 }]],
      )
      await store.commitProgress('w2', [{ op: 'signal_consumed', signalId: claimed!.signals[0]!.id }])
      assert.deepEqual(await store.listPendingSignals('r1'), [])
      await store.close()
    })

    test('a signal that arrives while the run is held makes it due when parked', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10)])
      await store.claimRuns('w1', 1, 100, 60_000)
      await store.deliverSignal('r1', 'go', null, 150)
      await store.commitProgress('w1', [{ op: 'run_parked', runId: 'r1', status: 'waiting' }])
      assert.equal((await store.claimRuns('w2', 1, Date.now() + 1, 1000)).length, 1)
      await store.close()
    })

    test('pause, resume, cancel and retry from another process', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 10), newRun('r2', 11)])
      assert.equal(await store.pauseUnleasedRun('r1', 50), true)
      assert.equal((await store.getRun('r1'))?.status, 'paused')
      assert.deepEqual(
        (await store.claimRuns('w', 5, 100, 1000)).map((c) => c.run.id),
        ['r2'],
      )
      assert.equal(
        await store.requestControl('r2', 'cancel', 150),
        true,
        'r2 is leased: the request waits for its owner',
      )
      assert.deepEqual(await store.pendingControls('w'), [{ runId: 'r2', control: 'cancel' }])
      assert.equal(
        await store.finishUnleasedRun('r2', 'cancelled', 200),
        false,
        'leased runs are finished by their owner',
      )
      assert.equal(await store.resumeRun('r1', 300), true)
      assert.equal((await store.getRun('r1'))?.status, 'queued')
      assert.equal(await store.finishUnleasedRun('r1', 'cancelled', 400), true)
      assert.equal((await store.getRun('r1'))?.status, 'cancelled')
      assert.equal(await store.resumeRun('r1', 500), false)
      assert.equal(await store.retryRun('r1', 600), true)
      const run = await store.getRun('r1')
      assert.equal(run?.status, 'queued')
      assert.equal(run?.attempt, 2)
      assert.equal(await store.retryRun('r1', 700), false, 'only finished runs can be retried')
      await store.close()
    })

    test('dead owners are released, graceful release requeues running runs', async () => {
      const store = await open()
      await store.registerWorker({ id: 'dead', host: 'h', pid: 1, startedAt: 1, heartbeatAt: 1 })
      await store.enqueueRuns([newRun('r1', 10), newRun('r2', 11)])
      await store.claimRuns('dead', 1, 100, 60_000)
      await store.claimRuns('alive', 1, 100, 60_000)
      assert.equal(await store.releaseLeases(['dead']), 1)
      assert.deepEqual(
        (await store.listWorkers()).map((w) => w.id),
        [],
      )
      assert.deepEqual(
        (await store.claimRuns('other', 5, 200, 60_000)).map((c) => c.run.id),
        ['r1'],
      )
      await store.releaseOwner('alive')
      assert.equal((await store.getRun('r2'))?.status, 'queued')
      assert.deepEqual(
        (await store.claimRuns('other', 5, 300, 60_000)).map((c) => c.run.id),
        ['r2'],
      )
      await store.close()
    })

    test('runs are listed newest first, filtered and paged', async () => {
      const store = await open()
      await store.enqueueRuns([newRun('r1', 1), newRun('r2', 2), newRun('r3', 3, { workflowId: 'other' })])
      assert.deepEqual(
        (await store.listRuns({})).map((r) => r.id),
        ['r3', 'r2', 'r1'],
      )
      assert.deepEqual(
        (await store.listRuns({ workflowId: 'wf' })).map((r) => r.id),
        ['r2', 'r1'],
      )
      assert.deepEqual(
        (await store.listRuns({ limit: 1, before: 'r3' })).map((r) => r.id),
        ['r2'],
      )
      assert.deepEqual(
        (await store.listRuns({ status: ['succeeded'] })).map((r) => r.id),
        [],
      )
      await store.close()
    })
  })
}
