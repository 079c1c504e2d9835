/**
 * Dry runs (`homeostat run --dry-run`, `POST /api/workflows/:id/test`): a run marked as a test, in
 * which every action with side effects returns its plan instead of acting, and read-only actions run
 * for real. A planned step's output is `{ dryRun: true, plan: { summary, details } }`. Pure helpers
 * shared by the engine (which writes these outputs) and the CLI and API (which report them).
 */
import type { ActionPlan } from './action.ts'
import type { ErrorRecord } from './errors.ts'
import type { StepAttemptRecord } from './store-port.ts'

/** What a planned step outputs in place of the action's own output. */
export interface PlannedOutput {
  readonly dryRun: true
  readonly plan: ActionPlan
}

export function plannedOutput(plan: ActionPlan): PlannedOutput {
  return { dryRun: true, plan: plan.details === undefined ? { summary: plan.summary } : plan }
}

export function isPlannedOutput(value: unknown): value is PlannedOutput {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { dryRun?: unknown }).dryRun === true &&
    typeof (value as { plan?: { summary?: unknown } }).plan?.summary === 'string'
  )
}

/** The plan of an action that has no `plan()`: which action would run, with which parameters. */
export function genericPlan(action: string, params: unknown): ActionPlan {
  const text = params === undefined ? '' : JSON.stringify(params)
  const shown =
    text === '{}' || text === '' ? '' : ` with ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`
  return { summary: `run ${action}${shown}`, details: { action, params } }
}

/** One step of a dry run as reported to people and programs. */
export interface DryRunStep {
  step: string
  /** The item's index, for an item of a `foreach` step. */
  index?: number
  action?: string
  status: StepAttemptRecord['status']
  /** True when the step was planned (side effects), false when it ran (read-only) or did not run. */
  planned: boolean
  /** The plan's line ("write 1.2 kB to docs/README.md"), for planned steps. */
  summary?: string
  details?: Record<string, unknown>
  /** What a step that ran for real returned. */
  output?: unknown
  error?: ErrorRecord
  /** Why a skipped step did not run. */
  reason?: string
}

/**
 * The steps of a (dry) run in the order they ran: the last attempt of each step and item (foreach
 * summaries left out when their items are listed). `actionOf` names a step's action.
 */
export function dryRunReport(
  attempts: readonly StepAttemptRecord[],
  actionOf: (stepId: string) => string | undefined = () => undefined,
): DryRunStep[] {
  const last = new Map<string, StepAttemptRecord>()
  const itemized = new Set<string>()
  const loops = new Set<string>()
  for (const a of attempts) {
    if (a.iteration >= 0) itemized.add(a.stepId)
    else loops.add(a.stepId)
    last.set(`${a.stepId}:${a.iteration}`, a)
  }
  const out: DryRunStep[] = []
  for (const a of last.values()) {
    if (a.iteration < 0 && itemized.has(a.stepId)) continue
    const action = actionOf(a.stepId)
    const entry: DryRunStep = {
      step: a.stepId,
      ...(loops.has(a.stepId) && a.iteration >= 0 ? { index: a.iteration } : {}),
      ...(action === undefined ? {} : { action }),
      status: a.status,
      planned: isPlannedOutput(a.output),
    }
    if (isPlannedOutput(a.output)) {
      entry.summary = a.output.plan.summary
      if (a.output.plan.details !== undefined) entry.details = a.output.plan.details
    } else if (a.output !== undefined) entry.output = a.output
    if (a.error !== undefined) entry.error = a.error
    const reason = (a.detail as { reason?: unknown } | undefined)?.reason
    if (a.status === 'skipped' && typeof reason === 'string') entry.reason = reason
    out.push(entry)
  }
  return out
}
