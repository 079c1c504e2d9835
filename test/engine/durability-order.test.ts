import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { harness } from '../helpers/engine-harness.ts'

test('a side-effecting step runs only once the read-only steps before it are committed, and its own start', async () => {
  let seen: Array<{ step_id: string; status: string }> = []
  const h = await harness({
    register: (actions) =>
      actions.register({
        type: 'test.observe',
        description: 'reads the store from another connection while it runs',
        params: { type: 'object' },
        sideEffects: true,
        plan: () => ({ summary: 'observe' }),
        execute: (_params, ctx) => {
          const db = new DatabaseSync(h.storePath, { readOnly: true })
          try {
            seen = db
              .prepare('SELECT step_id, status FROM step_executions WHERE run_id = ? ORDER BY step_id')
              .all(ctx.run.id) as typeof seen
          } finally {
            db.close()
          }
          return { ok: true }
        },
      }),
  })
  await h.deploy({
    id: 'mixed',
    steps: [
      { id: 'a', uses: 'data.set', with: { n: 1 } },
      { id: 'b', needs: ['a'], uses: 'data.set', with: { n: '{{ steps.a.output.n + 1 }}' } },
      { id: 'c', needs: ['b'], uses: 'test.observe', with: { n: '{{ steps.b.output.n }}' } },
    ],
  })
  const runId = await h.start('mixed')
  const run = await h.settled(runId)
  assert.equal(run.status, 'succeeded', JSON.stringify(await h.attempts(runId)))
  assert.deepEqual(
    seen.map((r) => [r.step_id, r.status]),
    [
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'running'],
    ],
    'what the side-effecting step may have read, and its own start, were durable before it acted',
  )
})

test('a run of read-only steps writes its step rows and its end in one transaction, and reports them in order', async () => {
  const h = await harness()
  await h.deploy({
    id: 'pure',
    steps: [
      { id: 'a', uses: 'data.set', with: { n: 1 } },
      { id: 'b', needs: ['a'], uses: 'data.set', with: { n: '{{ steps.a.output.n + 1 }}' } },
      { id: 'c', needs: ['b'], uses: 'data.set', with: { n: '{{ steps.b.output.n + 1 }}' } },
    ],
  })
  await h.settled(await h.start('pure')) // warm
  const before = h.engine.commits.commits
  const runId = await h.start('pure')
  const run = await h.settled(runId)
  assert.equal(run.status, 'succeeded')
  assert.deepEqual(run.output, { n: 3 })
  assert.equal(h.engine.commits.commits - before, 1, 'three step rows and the completion: one commit')
  const order = h.events
    .filter((e) => e.runId === runId && e.type.startsWith('step.'))
    .map((e) => `${e.type}:${(e as { stepId: string }).stepId}`)
  assert.deepEqual(order, [
    'step.started:a',
    'step.completed:a',
    'step.started:b',
    'step.completed:b',
    'step.started:c',
    'step.completed:c',
  ])
})

test('the engine is idle as soon as its last run ends after a claim that drained the queue (no wait for the poll)', async () => {
  // the poll is a minute away: only the drained claim can tell the engine nothing else is due
  const h = await harness({ pollMs: 60_000, claimBatch: 16 })
  await h.deploy({ id: 'one', steps: [{ id: 'a', uses: 'data.set', with: { n: 1 } }] })
  for (let i = 0; i < 5; i++) {
    const runId = await h.start('one')
    assert.equal((await h.settled(runId)).status, 'succeeded')
    const outcome = await Promise.race([
      h.engine.whenIdle().then(() => 'idle'),
      new Promise((resolve) => setTimeout(resolve, 5000, 'still busy')),
    ])
    assert.equal(outcome, 'idle', `after run ${i + 1}`)
  }
})
