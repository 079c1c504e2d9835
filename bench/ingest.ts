/**
 * `ingest`: HTTP events → one 3-step workflow run each, 50 concurrent connections, durable
 * acknowledgement. The server is a real `homeostat serve` child process (its own core); this process
 * is the load generator (`closedLoop`: 50 keep-alive raw sockets, one request in flight on each). Prints one JSON line. Bounded: `events` requests, then it stops.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { closedLoop } from './http-load.ts'
import { serveChild } from './serve-child.ts'

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** CPU time (µs) of a process, its main thread and its audit writer thread, from /proc (Linux); zeros elsewhere. */
function processCpu(pid: number): { total: number; main: number; audit: number } {
  const ticks = (file: string): number => {
    try {
      // fields after the command name: utime is the 12th, stime the 13th
      const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ')
      return Number(fields[11]) + Number(fields[12])
    } catch {
      return 0
    }
  }
  const usPerTick = 1_000_000 / 100 // USER_HZ is 100 on Linux
  // the audit writer is the process's one `WorkerThread` (V8's own helpers are `V8Worker`)
  let audit = 0
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'WorkerThread')
        audit += ticks(`/proc/${pid}/task/${tid}/stat`)
    }
  } catch {
    // not Linux
  }
  return {
    total: ticks(`/proc/${pid}/stat`) * usPerTick,
    main: ticks(`/proc/${pid}/task/${pid}/stat`) * usPerTick,
    audit: audit * usPerTick,
  }
}

export async function ingestBenchmark(
  options: { events?: number; connections?: number; pacedRate?: number; pacedEvents?: number } = {},
): Promise<Record<string, unknown>> {
  const events = options.events ?? 30_000
  const connections = options.connections ?? 50
  const dir = mkdtempSync(join(tmpdir(), 'homeostat-ingest-'))
  mkdirSync(join(dir, 'workflows'))
  writeFileSync(
    join(dir, 'workflows', 'three.yaml'),
    `id: three
triggers: [{ type: event, event: load.tick }]
steps:
  - { id: a, uses: data.set, with: { n: "{{ event.data.n }}" } }
  - { id: b, needs: [a], uses: data.set, with: { doubled: "{{ steps.a.output.n * 2 }}" } }
  - { id: c, needs: [b], uses: data.set, with: { done: true } }
`,
  )
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    'store: data/store.db\nworkflows: [workflows]\nworker: { max_runs: 2000 }\n',
  )
  const { child, url } = await serveChild(dir)
  const { port, hostname } = new URL(url)
  const pid = child.pid!
  const load = (from: number, to: number, ratePerSec?: number) =>
    closedLoop({
      ...(ratePerSec ? { ratePerSec } : {}),
      host: hostname,
      port: Number(port),
      path: '/events',
      connections,
      from,
      to,
      contentType: 'application/cloudevents+json',
      body: (n) =>
        `{"specversion":"1.0","id":"e${n}","source":"/bench","type":"load.tick","data":{"n":${n}}}`,
    })
  // warm-up (ids 0..1999), then the measured burst (distinct ids: no duplicates)
  const warm = 2000
  await load(0, warm)
  const cpu0 = processCpu(pid)
  const t0 = performance.now()
  const burst = await load(warm, warm + events)
  const cpu1 = processCpu(pid)
  // the same connections offered exactly the goal's rate: latency counted from when each event was due
  const pacedRate = options.pacedRate ?? 5000
  const pacedEvents = options.pacedEvents ?? 25_000
  const paced = await load(warm + events, warm + events + pacedEvents, pacedRate)
  const cpu2 = processCpu(pid)
  const { latencies, seconds } = burst
  if (process.env.INGEST_TRACE)
    writeFileSync(
      process.env.INGEST_TRACE,
      burst.sentAt.map((t, i) => `${t.toFixed(2)} ${latencies[i]!.toFixed(2)}`).join('\n'),
    )
  const failed = Object.values(burst.otherStatuses).reduce((a, b) => a + b, 0)
  // the runs those events started: wait for them to finish, then count from the store
  const db = new DatabaseSync(join(dir, 'data', 'store.db'), { readOnly: true })
  const runsDone = (): number =>
    Number(
      (
        db.prepare("SELECT COUNT(*) AS n FROM workflow_executions WHERE status = 'succeeded'").get() as {
          n: number
        }
      ).n,
    )
  const expected = events + warm + pacedEvents
  const deadline = Date.now() + 60_000
  while (runsDone() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  const runsSeconds = (performance.now() - t0) / 1000
  const succeeded = runsDone()
  db.close()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  rmSync(dir, { recursive: true, force: true })
  return {
    benchmark: 'ingest',
    events,
    connections,
    acknowledged_per_sec: Math.round(latencies.length / seconds),
    ack_p50_ms: Number(percentile(latencies, 50).toFixed(2)),
    ack_p99_ms: Number(percentile(latencies, 99).toFixed(2)),
    failed,
    goal_events_per_sec: 5000,
    goal_ack_p99_ms: 20,
    // paced: `paced_rate` events/s offered on the same 50 connections (open loop, as wrk2)
    paced_rate: pacedRate,
    paced_acknowledged_per_sec: Math.round(paced.latencies.length / paced.seconds),
    paced_ack_p50_ms: Number(percentile(paced.latencies, 50).toFixed(2)),
    paced_ack_p99_ms: Number(percentile(paced.latencies, 99).toFixed(2)),
    paced_ack_max_ms: Number(percentile(paced.latencies, 100).toFixed(2)),
    paced_failed: Object.values(paced.otherStatuses).reduce((a, b) => a + b, 0),
    paced_server_cpu_us_per_event: Math.round((cpu2.total - cpu1.total) / paced.latencies.length),
    paced_server_main_thread_cpu_us_per_event: Math.round((cpu2.main - cpu1.main) / paced.latencies.length),
    runs_succeeded: succeeded,
    runs_expected: expected,
    runs_completed_per_sec_including_backlog: Math.round(succeeded / runsSeconds),
    // CPU the server spent per acknowledged event during the burst (steadier than rates on a shared host)
    server_cpu_us_per_event: Math.round((cpu1.total - cpu0.total) / latencies.length),
    server_main_thread_cpu_us_per_event: Math.round((cpu1.main - cpu0.main) / latencies.length),
    server_audit_thread_cpu_us_per_event: Math.round((cpu1.audit - cpu0.audit) / latencies.length),
    // the load generator shares the two cores: its own cost per request
    generator_cpu_us_per_event: Math.round(burst.cpuUs / (latencies.length + failed)),
    ack_p90_ms: Number(percentile(latencies, 90).toFixed(2)),
    ack_max_ms: Number(percentile(latencies, 100).toFixed(2)),
    cores: availableParallelism(),
  }
}

if (import.meta.filename === process.argv[1])
  process.stdout.write(`${JSON.stringify(await ingestBenchmark())}\n`)
