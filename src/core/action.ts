import type { JsonSchema } from './workflow.ts'

/** Structured log sink handed to actions; entries land in the step attempt's record. */
export interface ActionLogger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** What a step asks for when it suspends its run until a signal (or a timeout) arrives. */
export interface SuspendRequest {
  /** Signal name the run waits for (`homeostat runs signal <run> <name>`). */
  signal: string
  /** Give up after this many milliseconds; undefined waits forever. */
  timeoutMs?: number
  /** What the step becomes on timeout: `fail` (default) or `succeed` with `{ timedOut: true }`. */
  onTimeout?: 'fail' | 'succeed'
}

const SUSPEND = Symbol.for('homeostat.suspend')

/** The value an action returns to suspend its run; produced by `ctx.suspend(...)`. */
export interface Suspension {
  readonly [SUSPEND]: SuspendRequest
}

export function isSuspension(value: unknown): value is Suspension {
  return typeof value === 'object' && value !== null && SUSPEND in value
}

export function suspensionOf(value: Suspension): SuspendRequest {
  return value[SUSPEND]
}

export function makeSuspension(request: SuspendRequest): Suspension {
  return { [SUSPEND]: request }
}

export interface ActionContext {
  /** Aborted on step timeout, run timeout, cancellation or shutdown. Long actions must honour it. */
  readonly signal: AbortSignal
  /** Stable across retries and crash recovery: `runId:stepId:iteration`. */
  readonly idempotencyKey: string
  readonly logger: ActionLogger
  readonly run: {
    readonly id: string
    readonly workflow: string
    readonly version: number
    readonly attempt: number
  }
  readonly step: { readonly id: string; readonly iteration: number; readonly attempt: number }
  /** Suspend the run until `signal` is delivered; return the result from `execute`. */
  suspend(request: SuspendRequest): Suspension
  /**
   * The run's trigger (with its event, file path, webhook body, ...) and the outputs of the steps
   * finished so far, for actions that pass context on (`ai.generate` with `includeContext`).
   * Built on call; callers cap what they send.
   */
  context(): { trigger: unknown; steps: Record<string, { status: string; output?: unknown }> }
}

/**
 * What a side-effecting action would do, returned by `plan()` in a dry run (`homeostat run --dry-run`,
 * `POST /api/workflows/:id/test`) instead of doing it. `summary` is one line a person reads
 * ("write 1.2 kB to docs/README.md"); `details` names every target (files, commands, URLs).
 */
export interface ActionPlan {
  /** One human line: what would happen. */
  summary: string
  /** Structured targets: `{ path }`, `{ command, args, cwd }`, `{ method, url }`, ... */
  details?: Record<string, unknown>
}

/**
 * A typed operation a step runs. Registered by name in an `ActionRegistry`; plugins and tests add
 * their own through the same API.
 */
export interface ActionDefinition<P = Record<string, unknown>, O = unknown> {
  /** Dotted type, e.g. `data.set`. */
  readonly type: string
  readonly description: string
  /** JSON Schema for the step's `with` (after templates are rendered). */
  readonly params: JsonSchema
  /** JSON Schema of the output. */
  readonly output?: JsonSchema
  /** True when the action changes the world (files, HTTP, notifications): its start is made durable first. */
  readonly sideEffects: boolean
  /** Runs the action; a `Suspension` result parks the run until a signal arrives. */
  execute(params: P, ctx: ActionContext): Promise<O | Suspension> | O | Suspension
  /**
   * Dry run: says what `execute` would do without doing it (checks such as "is this path inside the
   * roots" still run and fail the same way). Required of every action with `sideEffects: true`;
   * read-only actions run for real in a dry run and need none.
   */
  plan?(params: P, ctx: ActionContext): Promise<ActionPlan> | ActionPlan
}

/** Registry of action definitions by type. */
export class ActionRegistry {
  #actions = new Map<string, ActionDefinition<never, unknown>>()

  register<P, O>(action: ActionDefinition<P, O>): this {
    if (this.#actions.has(action.type)) throw new Error(`action ${action.type} is already registered`)
    this.#actions.set(action.type, action as unknown as ActionDefinition<never, unknown>)
    return this
  }

  get(type: string): ActionDefinition<Record<string, unknown>, unknown> | undefined {
    return this.#actions.get(type) as ActionDefinition<Record<string, unknown>, unknown> | undefined
  }

  has(type: string): boolean {
    return this.#actions.has(type)
  }

  list(): ActionDefinition<Record<string, unknown>, unknown>[] {
    return [...this.#actions.values()].sort((a, b) => a.type.localeCompare(b.type)) as ActionDefinition<
      Record<string, unknown>,
      unknown
    >[]
  }
}
