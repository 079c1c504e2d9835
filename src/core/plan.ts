import { parseDuration } from './duration.ts'
import { compileExpression, compileTemplate, type Expression, type Template } from './expr/index.ts'
import type { BackoffKind, OnError, RetryPolicy, StepSpec, WorkflowDoc } from './workflow.ts'

/**
 * A workflow version compiled for execution: expressions and templates compiled once, durations in
 * milliseconds, dependency edges resolved both ways. Built from a document that passed validation;
 * compiling an invalid one throws.
 */

export interface ResolvedRetry {
  attempts: number
  backoff: BackoffKind
  delayMs: number
  maxDelayMs: number
  jitter: number
}

export type EdgeCondition = 'success' | 'failure' | 'always' | Expression

export interface StepEdge {
  step: string
  when: EdgeCondition
}

export interface StepPlan {
  readonly id: string
  readonly index: number
  readonly spec: StepSpec
  readonly uses: string
  readonly needs: readonly StepEdge[]
  readonly dependents: readonly string[]
  readonly ifExpr?: Expression
  readonly foreachExpr?: Expression
  readonly concurrency: number
  readonly with: Template
  readonly retry: ResolvedRetry
  readonly timeoutMs?: number
  readonly onError: OnError
}

export interface WorkflowPlan {
  readonly id: string
  readonly version: number
  readonly doc: WorkflowDoc
  /** Steps in a topological order (a step comes after everything it needs). */
  readonly steps: readonly StepPlan[]
  readonly byId: ReadonlyMap<string, StepPlan>
  /** Steps nothing depends on: their outputs make the default run output. */
  readonly sinks: readonly string[]
  readonly output?: Template
  readonly variables: Template
  readonly runTimeoutMs?: number
  /** Most steps of one run executing at once. */
  readonly concurrency: number
  /** Default values of declared inputs. */
  readonly inputDefaults: Readonly<Record<string, unknown>>
}

export const DEFAULT_RUN_CONCURRENCY = 10
const NO_RETRY: ResolvedRetry = {
  attempts: 1,
  backoff: 'exponential',
  delayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 0.2,
}

function durationOf(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value as string | number)
  if (ms === undefined) throw new Error(`${where}: not a duration: ${JSON.stringify(value)}`)
  return ms
}

function resolveRetry(
  policy: RetryPolicy | undefined,
  fallback: ResolvedRetry,
  where: string,
): ResolvedRetry {
  if (!policy) return fallback
  return {
    attempts: policy.attempts ?? (fallback.attempts > 1 ? fallback.attempts : 3),
    backoff: policy.backoff ?? fallback.backoff,
    delayMs: durationOf(policy.delay, `${where}.delay`) ?? fallback.delayMs,
    maxDelayMs: durationOf(policy.max_delay, `${where}.max_delay`) ?? fallback.maxDelayMs,
    jitter: policy.jitter ?? fallback.jitter,
  }
}

function edgeOf(need: string | { step: string; when?: string }): StepEdge {
  if (typeof need === 'string') return { step: need, when: 'success' }
  const when = need.when ?? 'success'
  if (when === 'success' || when === 'failure' || when === 'always') return { step: need.step, when }
  return { step: need.step, when: compileExpression(when) }
}

/** Orders steps so every step follows its dependencies (Kahn), keeping document order among peers. */
function topologicalOrder(
  steps: readonly StepSpec[],
  needsOf: (s: StepSpec) => readonly StepEdge[],
): StepSpec[] {
  const byId = new Map(steps.map((s) => [s.id, s]))
  const remaining = new Map(steps.map((s) => [s.id, needsOf(s).length]))
  const dependents = new Map<string, string[]>()
  for (const s of steps)
    for (const e of needsOf(s)) dependents.set(e.step, [...(dependents.get(e.step) ?? []), s.id])
  const ready = steps.filter((s) => remaining.get(s.id) === 0).map((s) => s.id)
  const order: StepSpec[] = []
  while (ready.length > 0) {
    const id = ready.shift()!
    order.push(byId.get(id)!)
    for (const d of dependents.get(id) ?? []) {
      const left = remaining.get(d)! - 1
      remaining.set(d, left)
      if (left === 0) ready.push(d)
    }
  }
  if (order.length !== steps.length) throw new Error('workflow steps form a cycle')
  return order
}

export function compilePlan(doc: WorkflowDoc, version: number): WorkflowPlan {
  const settings = doc.settings ?? {}
  const defaultRetry = resolveRetry(settings.retry, NO_RETRY, 'settings.retry')
  const edges = new Map<string, StepEdge[]>(doc.steps.map((s) => [s.id, (s.needs ?? []).map(edgeOf)]))
  const ordered = topologicalOrder(doc.steps, (s) => edges.get(s.id)!)
  const dependents = new Map<string, string[]>()
  for (const s of ordered)
    for (const e of edges.get(s.id)!) dependents.set(e.step, [...(dependents.get(e.step) ?? []), s.id])

  const steps: StepPlan[] = ordered.map((spec, index) => ({
    id: spec.id,
    index,
    spec,
    uses: spec.uses,
    needs: edges.get(spec.id)!,
    dependents: dependents.get(spec.id) ?? [],
    ifExpr: spec.if === undefined ? undefined : compileExpression(spec.if),
    foreachExpr: spec.foreach === undefined ? undefined : compileExpression(spec.foreach),
    concurrency: spec.concurrency ?? 1,
    with: compileTemplate(spec.with ?? {}),
    retry: resolveRetry(spec.retry, defaultRetry, `steps.${spec.id}.retry`),
    timeoutMs: durationOf(spec.timeout, `steps.${spec.id}.timeout`),
    onError: spec.on_error ?? 'fail',
  }))

  const inputDefaults: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(doc.inputs ?? {})) {
    if (schema && 'default' in schema) inputDefaults[name] = schema.default
  }

  return {
    id: doc.id,
    version,
    doc,
    steps,
    byId: new Map(steps.map((s) => [s.id, s])),
    sinks: steps.filter((s) => s.dependents.length === 0).map((s) => s.id),
    output: doc.output === undefined ? undefined : compileTemplate(doc.output),
    variables: compileTemplate(doc.variables ?? {}),
    runTimeoutMs: durationOf(settings.timeout, 'settings.timeout'),
    concurrency: settings.concurrency ?? DEFAULT_RUN_CONCURRENCY,
    inputDefaults,
  }
}

/**
 * Delay before retry number `retryNumber` (1 = first retry): exponential `delay * 2^(n-1)`, linear
 * `delay * n` or fixed `delay`, capped at `max_delay`, then spread by ±jitter using `random` in [0, 1).
 */
export function backoffDelay(retry: ResolvedRetry, retryNumber: number, random: number): number {
  const n = Math.max(1, retryNumber)
  const base =
    retry.backoff === 'fixed'
      ? retry.delayMs
      : retry.backoff === 'linear'
        ? retry.delayMs * n
        : retry.delayMs * 2 ** (n - 1)
  const capped = Math.min(base, retry.maxDelayMs)
  const spread = capped * retry.jitter * (random * 2 - 1)
  return Math.max(0, Math.round(capped + spread))
}
