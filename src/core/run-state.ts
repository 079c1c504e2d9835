import type { ErrorRecord } from './errors.ts'
import { toErrorRecord } from './errors.ts'
import type { ExprContext } from './expr/index.ts'
import type { StepPlan, WorkflowPlan } from './plan.ts'

/**
 * The pure part of running a DAG: given the state of each step, which steps may start now, which are
 * skipped (and why), and how the run ends. The engine owns the state, performs the effects, and calls
 * back here after every change; nothing in this file does I/O.
 */

export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled'

export interface StepState {
  status: StepStatus
  output?: unknown
  error?: ErrorRecord
  /** Attempts made so far (not counting interruptions by a crash). */
  attempts: number
}

export const SETTLED: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled'])

export interface Decision {
  /** Steps whose dependencies are settled, whose edges pass and whose `if` holds: start them. */
  ready: StepPlan[]
  /** Steps that will not run, with a reason a person can read. */
  skipped: Array<{ step: StepPlan; reason: string }>
  /** Steps whose edge condition or `if` could not be evaluated: they fail with this error. */
  failed: Array<{ step: StepPlan; error: ErrorRecord }>
}

/** How a settled dependency's status satisfies an edge's `when`. */
function edgePasses(
  when: StepPlan['needs'][number]['when'],
  dep: StepState,
  depPlan: StepPlan,
  ctx: () => ExprContext,
): boolean {
  const failedButContinues = dep.status === 'failed' && depPlan.onError === 'continue'
  switch (when) {
    case 'success':
      return dep.status === 'succeeded' || failedButContinues
    case 'failure':
      return dep.status === 'failed'
    case 'always':
      return true
    default:
      if (dep.status === 'skipped' || dep.status === 'cancelled') return false
      return when.evaluate(ctx()) === true
  }
}

function describeEdge(edge: StepPlan['needs'][number], dep: StepState): string {
  const when = typeof edge.when === 'string' ? edge.when : `\`${edge.when.source}\``
  return `needs ${edge.step} when ${when}, but ${edge.step} ${dep.status}`
}

/**
 * Decides what happens next for `candidates` (steps whose dependencies may just have settled; pass
 * every step for a fresh run). Skips cascade: a skipped step's dependents are decided in the same call.
 * `ctx` builds the expression context lazily (only edge conditions and `if` need it).
 */
export function decide(
  plan: WorkflowPlan,
  states: ReadonlyMap<string, StepState>,
  candidates: Iterable<StepPlan>,
  ctx: () => ExprContext,
): Decision {
  const decision: Decision = { ready: [], skipped: [], failed: [] }
  // made on first use: most calls decide one step that simply becomes ready
  let skippedNow: Set<string> | undefined
  const seen = new Set<string>()
  const queue = Array.isArray(candidates) ? (candidates as StepPlan[]).slice() : [...candidates]
  while (queue.length > 0) {
    const step = queue.shift()!
    if (seen.has(step.id)) continue
    const state = states.get(step.id)
    if (!state || state.status !== 'pending') continue
    let blocked = false
    let skipReason: string | undefined
    try {
      for (const edge of step.needs) {
        const dep = skippedNow?.has(edge.step)
          ? { status: 'skipped' as const, attempts: 0 }
          : states.get(edge.step)!
        if (!SETTLED.has(dep.status)) {
          blocked = true
          break
        }
        if (skipReason === undefined && !edgePasses(edge.when, dep, plan.byId.get(edge.step)!, ctx)) {
          skipReason = describeEdge(edge, dep)
        }
      }
      if (blocked) continue
      seen.add(step.id)
      if (skipReason === undefined && step.ifExpr && step.ifExpr.evaluate(ctx()) !== true) {
        skipReason = `if \`${step.ifExpr.source}\` was false`
      }
    } catch (err) {
      seen.add(step.id)
      decision.failed.push({ step, error: toErrorRecord(err) })
      continue
    }
    if (skipReason !== undefined) {
      decision.skipped.push({ step, reason: skipReason })
      skippedNow ??= new Set()
      skippedNow.add(step.id)
      for (const d of step.dependents) queue.push(plan.byId.get(d)!)
    } else {
      decision.ready.push(step)
    }
  }
  return decision
}

/** The run's end state once every step is settled. */
export function runOutcome(
  plan: WorkflowPlan,
  states: ReadonlyMap<string, StepState>,
): { status: 'succeeded' | 'failed'; failedSteps: string[] } {
  const failedSteps = plan.steps
    .filter((s) => states.get(s.id)?.status === 'failed' && s.onError === 'fail')
    .map((s) => s.id)
  return { status: failedSteps.length > 0 ? 'failed' : 'succeeded', failedSteps }
}

/** Default run output: the output of the single sink step, or a map of sink step outputs. */
export function defaultOutput(plan: WorkflowPlan, states: ReadonlyMap<string, StepState>): unknown {
  const sinks = plan.sinks.filter((id) => states.get(id)?.status === 'succeeded')
  if (plan.sinks.length === 1) return sinks.length === 1 ? states.get(sinks[0]!)!.output : undefined
  const out: Record<string, unknown> = {}
  for (const id of sinks) out[id] = states.get(id)!.output
  return out
}
