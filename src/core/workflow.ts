/**
 * The workflow document in its canonical form, as `homeostat show` prints it and as the store keeps it.
 * The JSON Schema in `workflow-schema.ts` describes the same shape; the long form of the source
 * documents is normalised into this one by `normalise.ts` before anything else sees it.
 */

/** A JSON Schema object (kept loose on purpose: Ajv validates it). */
export type JsonSchema = { [key: string]: unknown }

/** Duration as written by a user: `250ms`, `4s`, `5m`, `1h`, `1d`, or a number of milliseconds. */
export type DurationInput = string | number

export const BACKOFF_KINDS = ['exponential', 'fixed', 'linear'] as const
export type BackoffKind = (typeof BACKOFF_KINDS)[number]

export interface RetryPolicy {
  /** Total attempts including the first one; 1 means no retry. */
  attempts?: number
  backoff?: BackoffKind
  delay?: DurationInput
  max_delay?: DurationInput
  /** Random spread applied to each delay, 0..1 (default 0.2 = ±20 %). */
  jitter?: number
}

export const EDGE_WHEN = ['success', 'failure', 'always'] as const
/** `success`, `failure`, `always`, or a CEL expression evaluated in the run context. */
export type EdgeWhen = string

export interface NeedSpec {
  step: string
  when?: EdgeWhen
}

export const ON_ERROR = ['fail', 'continue'] as const
export type OnError = (typeof ON_ERROR)[number]

export interface StepSpec {
  id: string
  name?: string
  description?: string
  /** Action type, e.g. `data.set`. */
  uses: string
  /** Action parameters; strings may contain `{{ CEL }}` templates. */
  with?: Record<string, unknown>
  needs?: Array<string | NeedSpec>
  if?: string
  /** CEL expression yielding a list; the step runs once per item (`item`, `index` in context). */
  foreach?: string
  /** Parallel iterations of a `foreach` step (default 1: sequential). */
  concurrency?: number
  retry?: RetryPolicy
  timeout?: DurationInput
  on_error?: OnError
  /** Position in the web builder. */
  ui?: { x: number; y: number }
}

export interface TriggerSpec {
  type: string
  [key: string]: unknown
}

export interface WorkflowSettings {
  /** Whole-run timeout. */
  timeout?: DurationInput
  /** Most steps of one run executing at once (default 10). */
  concurrency?: number
  /** Default retry policy for every step. */
  retry?: RetryPolicy
}

export interface WorkflowDoc {
  id: string
  name?: string
  description?: string
  enabled?: boolean
  /** Assigned by the store on every change of content; never hand-edited. */
  version?: number
  kind?: string
  tags?: string[]
  /** JSON Schema per input name. */
  inputs?: Record<string, JsonSchema>
  variables?: Record<string, unknown>
  settings?: WorkflowSettings
  triggers?: TriggerSpec[]
  steps: StepSpec[]
  /** Template for the run's output; default: the output of the single last step, or a map of last steps. */
  output?: unknown
}
