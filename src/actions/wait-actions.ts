import type { ActionDefinition } from '../core/action.ts'
import { parseDuration } from '../core/duration.ts'
import { NonRetryableError } from '../core/errors.ts'

const DURATION = {
  description: 'Duration: `250ms`, `4s`, `5m`, `1h`, or milliseconds',
  oneOf: [
    { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)+$|^\\d+$' },
    { type: 'number', minimum: 0 },
  ],
}

function durationParam(value: string | number, name: string): number {
  const ms = parseDuration(value)
  if (ms === undefined) throw new NonRetryableError(`${name}: not a duration: ${JSON.stringify(value)}`)
  return ms
}

/** `wait.sleep`: waits for a duration; aborted by step timeout, cancellation and shutdown. */
export const waitSleep: ActionDefinition<{ duration: string | number }, { sleptMs: number }> = {
  type: 'wait.sleep',
  description: 'Waits for a duration before the next step.',
  params: {
    type: 'object',
    properties: { duration: DURATION },
    required: ['duration'],
    additionalProperties: false,
  },
  output: { type: 'object', properties: { sleptMs: { type: 'number' } } },
  sideEffects: false,
  execute: (params, ctx) => {
    const ms = durationParam(params.duration, 'duration')
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) return reject(ctx.signal.reason as Error)
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort)
        resolve({ sleptMs: ms })
      }, ms)
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(
          ctx.signal.reason instanceof Error
            ? ctx.signal.reason
            : new Error(`sleep aborted: ${String(ctx.signal.reason)}`),
        )
      }
      ctx.signal.addEventListener('abort', onAbort, { once: true })
    })
  },
}

/**
 * `wait.signal`: suspends the run (status `waiting`, no worker held) until a signal of this name is
 * delivered (`homeostat runs signal <run> <name>`), then outputs the signal's payload.
 */
export const waitSignal: ActionDefinition<
  { name: string; timeout?: string | number; on_timeout?: 'fail' | 'succeed' },
  unknown
> = {
  type: 'wait.signal',
  description: 'Suspends the run until a named signal arrives (or the timeout passes); outputs the payload.',
  params: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, description: 'Signal name to wait for' },
      timeout: DURATION,
      on_timeout: { enum: ['fail', 'succeed'], default: 'fail' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  sideEffects: false,
  execute: (params, ctx) =>
    ctx.suspend({
      signal: params.name,
      timeoutMs: params.timeout === undefined ? undefined : durationParam(params.timeout, 'timeout'),
      onTimeout: params.on_timeout ?? 'fail',
    }),
}
