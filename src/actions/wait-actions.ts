import type { ActionDefinition } from '../core/action.ts'
import { DURATION_SCHEMA, durationMs } from './duration-param.ts'

/** `wait.sleep`: waits for a duration; aborted by step timeout, cancellation and shutdown. */
export const waitSleep: ActionDefinition<{ duration: string | number }, { sleptMs: number }> = {
  type: 'wait.sleep',
  description: 'Waits for a duration before the next step.',
  params: {
    type: 'object',
    properties: { duration: DURATION_SCHEMA },
    required: ['duration'],
    additionalProperties: false,
  },
  output: { type: 'object', properties: { sleptMs: { type: 'number' } } },
  sideEffects: false,
  execute: (params, ctx) => {
    const ms = durationMs(params.duration, 'duration', 0, { allowZero: true })
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
      timeout: DURATION_SCHEMA,
      on_timeout: { enum: ['fail', 'succeed'], default: 'fail' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  sideEffects: false,
  execute: (params, ctx) =>
    ctx.suspend({
      signal: params.name,
      timeoutMs: durationMs(params.timeout, 'timeout', undefined),
      onTimeout: params.on_timeout ?? 'fail',
    }),
}
