import type { ActionDefinition } from '../core/action.ts'
import { NonRetryableError } from '../core/errors.ts'

/** `log`: writes a message to the run's log (kept with the step attempt) and outputs it. */
export const logAction: ActionDefinition<
  { message: string; level?: 'info' | 'warn' | 'error'; fields?: Record<string, unknown> },
  { message: string }
> = {
  type: 'log',
  description: "Writes a message to the run's log.",
  params: {
    type: 'object',
    properties: {
      message: { type: 'string' },
      level: { enum: ['info', 'warn', 'error'], default: 'info' },
      fields: { type: 'object', additionalProperties: true },
    },
    required: ['message'],
    additionalProperties: false,
  },
  output: { type: 'object', properties: { message: { type: 'string' } } },
  sideEffects: false,
  execute: (params, ctx) => {
    ctx.logger[params.level ?? 'info'](params.message, params.fields)
    return { message: params.message }
  },
}

/** `fail`: fails the step, for testing error paths; `retryable: false` skips the retry policy. */
export const failAction: ActionDefinition<{ message?: string; retryable?: boolean }, never> = {
  type: 'fail',
  description: 'Fails the step with a message (to exercise retries and error handling).',
  params: {
    type: 'object',
    properties: {
      message: { type: 'string', default: 'failed on purpose' },
      retryable: { type: 'boolean', default: true },
    },
    additionalProperties: false,
  },
  sideEffects: false,
  execute: (params) => {
    const message = params.message ?? 'failed on purpose'
    throw params.retryable === false ? new NonRetryableError(message) : new Error(message)
  },
}
