import { NonRetryableError } from './errors.ts'
import { didYouMean } from './suggest.ts'

/**
 * The port through which actions reach handlers: the named target services ("kernels" of the
 * source documents) configured under `handlers:` in homeostat.yaml. A target is written
 * `handler.method`, e.g. `avn_core.escalate_healing`. The implementation (`mesh/handler-registry.ts`)
 * imports in-process modules and speaks HTTP; actions only see this interface.
 */

/** `handler.method`: a handler name ([A-Za-z0-9_-]) and a method name ([A-Za-z0-9_]). */
export const HANDLER_TARGET_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$/
/** A handler's name as configured under `handlers:`. */
export const HANDLER_NAME_PATTERN = /^[A-Za-z0-9_-]+$/
/** A callable method name; names starting with `_` are private and never callable. */
export const HANDLER_METHOD_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_]*$/

export interface HandlerCallOptions {
  /** Aborted on step timeout, run timeout, cancellation or shutdown. */
  signal: AbortSignal
  /** Stable across retries and crash recovery (`runId:stepId:iteration`); HTTP sends it as `Idempotency-Key`. */
  idempotencyKey: string
  /** Limit for this call in milliseconds, overriding the handler's configured `timeout`. */
  timeoutMs?: number
}

export interface HandlerDescription {
  name: string
  kind: 'module' | 'http'
  /** Known for module handlers; HTTP handlers do not list theirs. */
  methods?: string[]
}

export interface HandlerInvoker {
  /**
   * Calls `method` of `handler` (target `"handler.method"`) with `args` and resolves with its
   * result. Throws `NonRetryableError` for an unknown handler or method and for failures that a
   * retry cannot fix, `RetryAfterError` when the target said when to come back, and any other
   * error for transient failures (the engine's retry policy applies).
   */
  call(target: string, args: unknown, options: HandlerCallOptions): Promise<unknown>
  /** The configured handlers, sorted by name. */
  describe(): HandlerDescription[]
}

/** Splits `handler.method`; throws `NonRetryableError` when the target is not of that shape. */
export function parseHandlerTarget(target: string): { handler: string; method: string } {
  if (!HANDLER_TARGET_PATTERN.test(target)) {
    throw new NonRetryableError(
      `handler target ${JSON.stringify(target)} is not of the form handler.method (e.g. avn_core.escalate_healing)`,
    )
  }
  const dot = target.indexOf('.')
  return { handler: target.slice(0, dot), method: target.slice(dot + 1) }
}

/** `; did you mean \`x\`?` or a full stop. */
function hint(input: string, candidates: readonly string[]): string {
  return didYouMean(input, candidates) || '.'
}

function listed(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `\`${n}\``).join(', ')
}

/** The error for a target whose handler is not configured; lists the configured handlers. */
export function unknownHandlerError(
  target: string,
  handler: string,
  known: readonly string[],
): NonRetryableError {
  return new NonRetryableError(
    `unknown handler \`${handler}\` in target \`${target}\`${hint(handler, known)} ` +
      `Configured handlers: ${listed(known)}. Add it under \`handlers:\` in homeostat.yaml.`,
  )
}

/** The error for a method a module handler does not export; lists its methods. */
export function unknownMethodError(
  target: string,
  handler: string,
  method: string,
  methods: readonly string[],
): NonRetryableError {
  return new NonRetryableError(
    `handler \`${handler}\` has no method \`${method}\` (target \`${target}\`)${hint(method, methods)} ` +
      `Its methods: ${listed(methods)}.`,
  )
}

/** A handler call that ran past its own limit (the call's `timeout` or the handler's); retryable. */
export class HandlerTimeoutError extends Error {
  readonly timeoutMs: number
  constructor(target: string, timeoutMs: number) {
    super(`handler call ${target} timed out after ${timeoutMs}ms`)
    this.name = 'HandlerTimeoutError'
    this.timeoutMs = timeoutMs
  }
}
