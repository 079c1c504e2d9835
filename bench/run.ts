/**
 * `npm run bench`: the engine's four figures on the embedded store with its default durability
 * (`process`: WAL, synchronous=NORMAL), each with its physical floor measured in the same run.
 * One JSON line per benchmark on stdout. Select some with `npm run bench -- chain-40 latency`.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { builtinActions } from '../src/actions/builtin-actions.ts'
import type { WorkflowDoc } from '../src/core/workflow.ts'
import { Engine } from '../src/engine/engine.ts'
import { RunService } from '../src/engine/run-service.ts'
import { workflowHash } from '../src/mesh/workflow-files.ts'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts'
import { ingestBenchmark } from './ingest.ts'
import { routeBenchmark } from './route.ts'
import { cronTriggerBenchmark, fileTriggerBenchmark } from './triggers.ts'
import { webhookBenchmark } from './webhook.ts'

const dir = mkdtempSync(join(tmpdir(), 'homeostat-bench-'))
let dbCounter = 0
const cores = availableParallelism()

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
const round = (n: number, digits = 4): number => Number(n.toFixed(digits))

/** Floor 1: one raw single-row INSERT committed on its own, same pragmas as the store. */
function floorSingleCommitMs(samples = 5000): number {
  const db = new DatabaseSync(join(dir, `floor-${dbCounter++}.db`))
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)',
  )
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now()
    db.exec('BEGIN')
    insert.run('{"x":1}')
    db.exec('COMMIT')
    times.push(performance.now() - t0)
  }
  db.close()
  return percentile(times, 50)
}

/** Floor 2: raw rows per second inserted in batches of 1000 per transaction. */
function floorBatchedRowsPerSec(rows = 200_000): number {
  const db = new DatabaseSync(join(dir, `floor-${dbCounter++}.db`))
  db.exec(
    'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)',
  )
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
  const t0 = performance.now()
  for (let i = 0; i < rows; i += 1000) {
    db.exec('BEGIN')
    for (let j = 0; j < 1000; j++) insert.run('{"x":1}')
    db.exec('COMMIT')
  }
  const rate = rows / ((performance.now() - t0) / 1000)
  db.close()
  return rate
}

/** Wall-clock moment the last `bench.mark` action returned: the real end of a child's work. */
let lastMark = 0

async function setup(
  docs: WorkflowDoc[],
  engineOptions: { maxActiveRuns?: number; claimBatch?: number } = {},
) {
  const store = new SqliteStore({ path: join(dir, `bench-${dbCounter++}.db`) })
  await store.migrate()
  const actions = builtinActions().register({
    type: 'bench.mark',
    description: 'records when it ran',
    params: { type: 'object' },
    sideEffects: false,
    execute: (params: Record<string, unknown>) => {
      lastMark = performance.now()
      return params
    },
  })
  // a no-op that counts as changing the world: its start is committed before it runs, like a real one
  actions.register({
    type: 'bench.touch',
    description: 'a side-effecting no-op',
    params: { type: 'object' },
    sideEffects: true,
    execute: (params: Record<string, unknown>) => params,
    plan: () => ({ summary: 'touch nothing' }),
  })
  const engine = new Engine({ store, actions, pollMs: 1000, ...engineOptions })
  const runs = new RunService(store, { engine })
  const versions = new Map<string, Awaited<ReturnType<SqliteStore['getWorkflowVersion']>>>()
  for (const doc of docs) {
    await store.putWorkflowVersion(doc, { hash: workflowHash(doc), author: 'bench', now: Date.now() })
    versions.set(doc.id, await store.getWorkflowVersion(doc.id))
  }
  return { store, engine, runs, wf: (id: string) => versions.get(id)! }
}

function waitFor(engine: Engine, runId: string): Promise<void> {
  return new Promise((resolve) => {
    const off = engine.onEvent((e) => {
      if (e.runId === runId && (e.type === 'workflow.completed' || e.type === 'workflow.failed')) {
        off()
        resolve()
      }
    })
  })
}

async function chain40(): Promise<Record<string, unknown>> {
  const steps = 40
  const runsCount = 200
  // side-effecting steps: each one's start (with its predecessor's result) is committed before it
  // runs, so every step pays a commit. (Read-only steps would run ahead and share one: `chain_read_only_p50_ms`.)
  const chain = (id: string, uses: string): WorkflowDoc => ({
    id,
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i}`,
      uses,
      with: { i },
      ...(i > 0 ? { needs: [`s${i - 1}`] } : {}),
    })),
  })
  const { store, engine, runs, wf } = await setup([chain('chain', 'bench.touch'), chain('pure', 'data.set')])
  await engine.start()
  const perStep: number[] = []
  const perChain: number[] = []
  let last = 0
  let first = 0
  engine.onEvent((e) => {
    if (e.type !== 'step.completed') return
    const now = performance.now()
    if (e.stepId === 's0') first = now
    else perStep.push(now - last)
    last = now
  })
  for (let r = 0; r < runsCount + 20; r++) {
    const runId = await runs.submit(wf('chain'), {}, { type: 'bench' })
    await waitFor(engine, runId)
    if (r === 19) perStep.length = 0 // first 20 runs warm the JIT
    if (r >= 20) perChain.push(last - first)
  }
  const readOnly: number[] = []
  for (let r = 0; r < runsCount; r++) {
    const t0 = performance.now()
    const runId = await runs.submit(wf('pure'), {}, { type: 'bench' })
    await waitFor(engine, runId)
    readOnly.push(performance.now() - t0)
  }
  await engine.stop()
  await store.close()
  const floor = floorSingleCommitMs()
  const p50 = percentile(perStep, 50)
  return {
    benchmark: 'chain-40',
    runs: runsCount,
    steps_per_run: steps,
    per_step_p50_ms: round(p50),
    per_step_p99_ms: round(percentile(perStep, 99)),
    chain_p50_ms: round(percentile(perChain, 50), 3),
    chain_read_only_p50_ms: round(percentile(readOnly.slice(20), 50), 3),
    goal_per_step_p50_ms: 0.1,
    floor_single_commit_ms: round(floor),
    ratio_to_floor: round(p50 / floor, 2),
    commits_per_step: 1,
    cores,
  }
}

async function burnDown(): Promise<Record<string, unknown>> {
  const total = 20_000
  const doc: WorkflowDoc = { id: 'one', steps: [{ id: 'only', uses: 'data.set', with: { ok: true } }] }
  const { store, engine, wf } = await setup([doc], { maxActiveRuns: 2000, claimBatch: 500 })
  const version = wf('one')!.version
  const now = Date.now()
  const queued = Array.from({ length: total }, (_, i) => ({
    id: `run-${String(i).padStart(6, '0')}`,
    workflowId: 'one',
    workflowVersion: version,
    trigger: { type: 'bench' },
    inputs: {},
    createdAt: now,
  }))
  await store.enqueueRuns(queued)
  let done = 0
  const finished = new Promise<void>((resolve) =>
    engine.onEvent((e) => {
      if (e.type === 'workflow.completed' && ++done === total) resolve()
    }),
  )
  const t0 = performance.now()
  await engine.start()
  await finished
  const seconds = (performance.now() - t0) / 1000
  const commits = engine.commits.commits
  await engine.stop()
  const check = await store.listRuns({ status: ['succeeded'], limit: total + 1 })
  const steps = (await store.listStepAttempts('run-000000')).length
  await store.close()
  const floor = floorBatchedRowsPerSec()
  const rate = total / seconds
  return {
    benchmark: 'burn-down',
    runs: total,
    runs_per_sec: Math.round(rate),
    goal_runs_per_sec: 25_000,
    transactions: commits,
    runs_succeeded_in_store: check.length,
    step_rows_per_run: steps,
    floor_batched_rows_per_sec: Math.round(floor),
    ratio_to_floor: round(rate / floor, 3),
    cores,
  }
}

async function fanOut(): Promise<Record<string, unknown>> {
  const width = 100
  const runsCount = 100
  const doc: WorkflowDoc = {
    id: 'fan',
    settings: { concurrency: width },
    steps: [
      { id: 'start', uses: 'data.set', with: { go: true } },
      ...Array.from({ length: width }, (_, i) => ({
        id: `c${i}`,
        needs: ['start'],
        uses: 'bench.mark',
        with: { i },
      })),
      {
        id: 'join',
        needs: Array.from({ length: width }, (_, i) => `c${i}`),
        uses: 'data.set',
        with: { done: true },
      },
    ],
  }
  const { store, engine, runs, wf } = await setup([doc])
  await engine.start()
  // from the moment the last child's action returned (before its result is committed) to the join's start
  const latencies: number[] = []
  engine.onEvent((e) => {
    if (e.type === 'step.started' && e.stepId === 'join') latencies.push(performance.now() - lastMark)
  })
  for (let r = 0; r < runsCount + 10; r++) {
    const runId = await runs.submit(wf('fan'), {}, { type: 'bench' })
    await waitFor(engine, runId)
    if (r === 9) latencies.length = 0
  }
  await engine.stop()
  await store.close()
  const floor = floorSingleCommitMs(2000)
  const p99 = percentile(latencies, 99)
  return {
    benchmark: 'fan-out',
    runs: runsCount,
    width,
    join_latency_p50_ms: round(percentile(latencies, 50)),
    join_latency_p99_ms: round(p99),
    goal_join_p99_ms: 2,
    measured_from:
      'the last child action returning, so it includes committing that child and scheduling the join',
    floor_single_commit_ms: round(floor),
    ratio_to_floor: round(p99 / floor, 2),
    cores,
  }
}

async function latency(): Promise<Record<string, unknown>> {
  const samples = 500
  // the first step's action is `bench.mark`: the moment it runs is the moment the step started
  const doc: WorkflowDoc = { id: 'ping', steps: [{ id: 'first', uses: 'bench.mark', with: { pong: true } }] }
  const { store, engine, runs, wf } = await setup([doc])
  await engine.start()
  const values: number[] = []
  for (let i = 0; i < samples + 50; i++) {
    await engine.whenIdle()
    await new Promise((r) => setTimeout(r, 1)) // let the engine go idle
    const t0 = performance.now()
    let runId = ''
    const finished = new Promise<void>((resolve) => {
      const off = engine.onEvent((e) => {
        if (e.runId === runId && (e.type === 'workflow.completed' || e.type === 'workflow.failed')) {
          off()
          resolve()
        }
      })
    })
    runId = await runs.submit(wf('ping'), {}, { type: 'bench' })
    await finished
    values.push(lastMark - t0)
    if (i === 49) values.length = 0
  }
  await engine.stop()
  await store.close()
  const floor = floorSingleCommitMs(2000)
  const p50 = percentile(values, 50)
  return {
    benchmark: 'latency',
    samples,
    queued_to_first_step_p50_ms: round(p50),
    queued_to_first_step_p99_ms: round(percentile(values, 99)),
    goal_p50_ms: 0.5,
    includes: 'the enqueue commit, the claim transaction and template rendering',
    floor_single_commit_ms: round(floor),
    ratio_to_floor: round(p50 / floor, 2),
    cores,
  }
}

const BENCHMARKS: Record<string, () => Promise<Record<string, unknown>>> = {
  'chain-40': chain40,
  'burn-down': burnDown,
  'fan-out': fanOut,
  latency,
  route: () => routeBenchmark(),
  ingest: () => ingestBenchmark(),
  'trigger-cron': () => cronTriggerBenchmark(),
  'trigger-file': () => fileTriggerBenchmark(),
  webhook: () => webhookBenchmark(),
}

const selected = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const names = selected.length > 0 ? selected : Object.keys(BENCHMARKS)
for (const name of names) {
  const bench = BENCHMARKS[name]
  if (!bench) {
    process.stderr.write(`unknown benchmark ${name}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`)
    process.exitCode = 2
    continue
  }
  if (names.length > 1) {
    // each benchmark in a fresh process: no garbage or JIT state from the previous one
    const child = spawnSync(process.execPath, [import.meta.filename, name], {
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    if (child.status !== 0) process.exitCode = child.status ?? 1
    continue
  }
  process.stdout.write(`${JSON.stringify(await bench())}\n`)
}
rmSync(dir, { recursive: true, force: true })
