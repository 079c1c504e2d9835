/**
 * The router in memory: 1,000 workflows subscribed over 100 event types (about 10 per type, 2 % of
 * them on `domain.*` wildcards), half with map filters, a tenth with CEL filters, the rest without;
 * 1,000,000 events with small data objects through `Router.route`, on one core. Goal: ≥ 1,000,000
 * events/s. Prints one JSON line when run directly (`node bench/route.ts`); `npm run bench` calls
 * `routeBenchmark()`.
 */
import { availableParallelism } from 'node:os'
import type { CloudEvent } from '../src/core/event.ts'
import type { TriggerSpec } from '../src/core/workflow.ts'
import { Router, type RouteEntry } from '../src/mesh/router.ts'

const WORKFLOWS = 1000
const DOMAINS = 10
const TYPES_PER_DOMAIN = 10
const EVENTS = 1_000_000
const WARMUP = 200_000
const POOL = 4096
const SEVERITIES = ['CRITICAL', 'DEGRADED', 'WARNING', 'INFO'] as const

/** A small deterministic PRNG (mulberry32) so every run routes the same events. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function workflows(rand: () => number): RouteEntry[] {
  const entries: RouteEntry[] = []
  for (let i = 0; i < WORKFLOWS; i++) {
    const domain = i % DOMAINS
    const event =
      Math.floor(i / DOMAINS) % 50 === 49
        ? `domain${domain}.*`
        : `domain${domain}.event${Math.floor(i / DOMAINS) % TYPES_PER_DOMAIN}`
    const trigger: TriggerSpec = { type: 'event', event }
    const kind = i % 10
    if (kind < 5) {
      trigger.filter =
        kind % 2 === 0
          ? { severity: SEVERITIES[Math.floor(rand() * SEVERITIES.length)] }
          : { severity: ['CRITICAL', 'DEGRADED'], 'component.tier': 1 + Math.floor(rand() * 3) }
    } else if (kind === 5) {
      trigger.filter = `data.severity == "CRITICAL" && data.score < ${20 + Math.floor(rand() * 60)}`
    }
    entries.push({
      workflowId: `wf-${i}`,
      version: 1,
      enabled: i % 50 !== 49,
      doc: { id: `wf-${i}`, triggers: [trigger], steps: [{ id: 'run', uses: 'data.set' }] },
    })
  }
  return entries
}

function events(rand: () => number): CloudEvent[] {
  const pool: CloudEvent[] = []
  for (let i = 0; i < POOL; i++) {
    const domain = Math.floor(rand() * DOMAINS)
    const type = `domain${domain}.event${Math.floor(rand() * TYPES_PER_DOMAIN)}`
    pool.push({
      specversion: '1.0',
      id: `ev-${i}`,
      source: '/bench/monitor',
      type,
      time: '2026-01-15T10:00:00Z',
      data: {
        component: { id: `component-${i % 37}`, tier: 1 + (i % 3) },
        severity: SEVERITIES[Math.floor(rand() * SEVERITIES.length)],
        score: Math.round(rand() * 1000) / 10,
      },
    })
  }
  return pool
}

/** Runs the benchmark and returns its result line. */
export async function routeBenchmark(): Promise<Record<string, unknown>> {
  const rand = random(42)
  const router = new Router()
  const problems = router.load(workflows(rand))
  if (problems.length > 0) throw new Error(`bench workflows do not load: ${JSON.stringify(problems)}`)
  const pool = events(rand)
  let matches = 0
  for (let i = 0; i < WARMUP; i++) matches += router.route(pool[i % POOL]!).matched.length
  const before = router.counters()
  matches = 0
  let skipped = 0
  const t0 = performance.now()
  for (let i = 0; i < EVENTS; i++) {
    const decision = router.route(pool[i % POOL]!)
    matches += decision.matched.length
    skipped += decision.skipped.length
  }
  const seconds = (performance.now() - t0) / 1000
  const after = router.counters()
  const subscriptions = router.subscriptions()
  return {
    benchmark: 'route',
    workflows: WORKFLOWS,
    event_types: DOMAINS * TYPES_PER_DOMAIN,
    wildcard_patterns: subscriptions.wildcard.length,
    events: EVENTS,
    events_per_sec: Math.round(EVENTS / seconds),
    matches_per_event: Number((matches / EVENTS).toFixed(3)),
    skipped_per_event: Number((skipped / EVENTS).toFixed(3)),
    filter_evaluations_per_event: Number(
      ((after.filterEvaluations - before.filterEvaluations) / EVENTS).toFixed(3),
    ),
    filter_errors: after.filterErrors - before.filterErrors,
    goal_events_per_sec: 1_000_000,
    cores: availableParallelism(),
  }
}

if (import.meta.main) console.log(JSON.stringify(await routeBenchmark()))
