/**
 * What the demo kernels share: every call is recorded here, in order, so a demo or a test can show
 * what the workflows asked of the kernels. A repeated idempotency key (a retried or crash-recovered
 * step) returns the first call's result without recording a second effect, which is how a real
 * handler honours the key.
 */

/** The second argument homeostat passes to every handler method. */
export interface HandlerContext {
  readonly signal: AbortSignal
  /** Stable across retries of the same step: `runId:stepId:iteration`. */
  readonly idempotencyKey: string
  readonly handler: string
  readonly method: string
}

export interface RecordedCall {
  handler: string
  method: string
  args: unknown
  idempotencyKey: string
  result: unknown
  /** ISO time of the call. */
  at: string
}

/** Every call of every demo kernel, oldest first. */
export const handlerCalls: RecordedCall[] = []

const seen = new Map<string, unknown>()
let sequence = 0

/** Runs `effect` once per idempotency key and records the call; a repeat gets the first result back. */
export function once<T>(ctx: HandlerContext, args: unknown, effect: () => T): T {
  const key = `${ctx.handler}.${ctx.method}\n${ctx.idempotencyKey}`
  if (seen.has(key)) return seen.get(key) as T
  const result = effect()
  seen.set(key, result)
  handlerCalls.push({
    handler: ctx.handler,
    method: ctx.method,
    args,
    idempotencyKey: ctx.idempotencyKey,
    result,
    at: new Date().toISOString(),
  })
  return result
}

/** A short id for things the demo kernels create: `esc_0001`, `rev_0002`, … */
export function nextId(prefix: string): string {
  sequence += 1
  return `${prefix}_${String(sequence).padStart(4, '0')}`
}

/** Forgets every recorded call (between demo runs or tests). */
export function clearHandlerCalls(): void {
  handlerCalls.length = 0
  seen.clear()
  sequence = 0
}
