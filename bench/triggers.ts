/**
 * Trigger latency on a real server in this process (`startServer`: engine, ingest, router, trigger
 * manager, SQLite store with its default durability). Two figures, each one JSON line:
 *
 * - `trigger-cron`: a `*\/1 * * * * *` schedule; for each tick, the time from the tick to its
 *   `schedule.tick` event being stored (and routed, in the same commit), and to its run starting.
 *   Goal: the run starts within 50 ms of the tick.
 * - `trigger-file`: a `file_change` trigger with the default 250 ms debounce; for each file written,
 *   the time from the write to its run starting. Goal: within debounce + 50 ms.
 *
 * `node bench/triggers.ts` prints both; `npm run bench` calls `cronTriggerBenchmark()` and
 * `fileTriggerBenchmark()` (one process each).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { openApp, type App } from '../src/cli/app.ts'
import { resolveConfig } from '../src/cli/config.ts'
import { startServer, type RunningServer } from '../src/cli/serve-command.ts'

const round = (n: number, digits = 2): number => Number(n.toFixed(digits))

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function serve(workflow: string): Promise<{ dir: string; app: App; server: RunningServer }> {
  const dir = mkdtempSync(join(tmpdir(), 'homeostat-bench-triggers-'))
  mkdirSync(join(dir, 'workflows'))
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'workflows', 'w.yaml'), workflow)
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    'store: data/store.db\nworkflows: [workflows]\nlog_level: error\n',
  )
  const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
  const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
  return { dir, app, server }
}

async function close(s: { dir: string; app: App; server: RunningServer }): Promise<void> {
  await s.server.stop()
  await s.app.close()
  rmSync(s.dir, { recursive: true, force: true })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function cronTriggerBenchmark(
  options: { ticks?: number } = {},
): Promise<Record<string, unknown>> {
  const ticks = options.ticks ?? 10
  const s = await serve(`id: w
triggers: [{ type: schedule, cron: '*/1 * * * * *' }]
steps: [{ id: a, uses: data.set, with: { at: "{{ trigger.scheduledAt }}" } }]
`)
  const wanted = ticks + 1 // the first tick warms up
  for (let i = 0; i < 200; i++) {
    const runs = await s.app.store.listRuns({ workflowId: 'w', limit: 100 })
    if (runs.filter((r) => r.startedAt !== undefined).length >= wanted) break
    await sleep(100)
  }
  await s.server.triggers.stop()
  const runs = (await s.app.store.listRuns({ workflowId: 'w', limit: 100 })).reverse().slice(1, wanted)
  const events = new Map(
    (await s.app.mesh.recentEvents({ type: 'schedule.tick', limit: 100 })).map((e) => [
      e.event.id,
      e.receivedAt,
    ]),
  )
  const toEvent: number[] = []
  const toRun: number[] = []
  for (const run of runs) {
    const tick = Date.parse(run.trigger.scheduledAt as string)
    toEvent.push(events.get(run.trigger.eventId as string)! - tick)
    toRun.push(run.startedAt! - tick)
  }
  await close(s)
  return {
    benchmark: 'trigger-cron',
    ticks: runs.length,
    tick_to_event_stored_p50_ms: round(percentile(toEvent, 50)),
    tick_to_event_stored_max_ms: round(Math.max(...toEvent)),
    tick_to_run_started_p50_ms: round(percentile(toRun, 50)),
    tick_to_run_started_max_ms: round(Math.max(...toRun)),
    goal_ms: 50,
    resolution_ms: 1,
    cores: availableParallelism(),
  }
}

export async function fileTriggerBenchmark(
  options: { changes?: number } = {},
): Promise<Record<string, unknown>> {
  const changes = options.changes ?? 10
  const debounce = 250
  const s = await serve(`id: w
triggers: [{ type: file_change, paths: ['src/**/*.ts'] }]
steps: [{ id: a, uses: data.set, with: { path: "{{ trigger.filePath }}" } }]
`)
  const latencies: number[] = []
  for (let i = 0; i <= changes; i++) {
    const before = (await s.app.store.listRuns({ workflowId: 'w', limit: 1000 })).length
    const t0 = Date.now()
    await writeFile(join(s.dir, 'src', `f${i}.ts`), `export const n = ${i}\n`)
    let started: number | undefined
    for (let j = 0; j < 1000 && started === undefined; j++) {
      await sleep(5)
      const runs = await s.app.store.listRuns({ workflowId: 'w', limit: 1000 })
      if (runs.length > before) started = runs[0]!.startedAt
    }
    if (started !== undefined && i > 0) latencies.push(started - t0) // the first change warms up
  }
  await close(s)
  const p50 = percentile(latencies, 50)
  return {
    benchmark: 'trigger-file',
    changes: latencies.length,
    debounce_ms: debounce,
    write_to_run_started_p50_ms: round(p50),
    write_to_run_started_max_ms: round(Math.max(...latencies)),
    beyond_debounce_p50_ms: round(p50 - debounce),
    goal_ms: debounce + 50,
    includes: 'the inotify event, chokidar, the debounce, the ingest commit and the claim',
    cores: availableParallelism(),
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await cronTriggerBenchmark())}\n`)
  process.stdout.write(`${JSON.stringify(await fileTriggerBenchmark())}\n`)
}
