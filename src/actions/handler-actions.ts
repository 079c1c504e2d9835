import type { ActionDefinition } from '../core/action.ts'
import { DURATION_SCHEMA, durationMs } from './duration-param.ts'
import type { HandlerInvoker } from '../core/handler-port.ts'

export interface HandlerCallParams {
  /** `handler.method`, e.g. `avn_core.escalate_healing`. */
  target: string
  /** The method's argument object (templated from the event, inputs, earlier steps). */
  args?: Record<string, unknown>
  /** Limit for this call, overriding the handler's configured `timeout`; the step `timeout` still applies. */
  timeout?: string | number
}

/**
 * `handler.call`: calls a method of a configured handler (docs/handlers.md). The output is the
 * method's result when that is a JSON object; any other result (a list, a string, a number, null,
 * nothing) is wrapped as `{ result }`, so `steps.<id>.output` is always an object.
 */
export function handlerActions(invoker: HandlerInvoker): ActionDefinition[] {
  const call: ActionDefinition<HandlerCallParams, Record<string, unknown>> = {
    type: 'handler.call',
    description: 'Calls a method of a configured handler (a kernel): in-process module or HTTP endpoint.',
    params: {
      type: 'object',
      properties: {
        target: {
          type: 'string',
          pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_]+$',
          description: '`handler.method`, e.g. avn_core.escalate_healing',
        },
        args: { type: 'object', additionalProperties: true, description: "The method's argument object" },
        timeout: DURATION_SCHEMA,
      },
      required: ['target'],
      additionalProperties: false,
    },
    output: { type: 'object', additionalProperties: true },
    sideEffects: true,
    plan: (params) => {
      const handler = params.target.split('.')[0]!
      const known = invoker.describe().find((h) => h.name === handler)
      return {
        summary: `call ${params.target}${known ? ` (${known.kind})` : ''} with ${Object.keys(params.args ?? {}).length} argument(s)`,
        details: { target: params.target, args: params.args ?? {}, ...(known ? { handler: known } : {}) },
      }
    },
    execute: async (params, ctx) => {
      const timeoutMs = durationMs(params.timeout, 'timeout', undefined)
      const result = await invoker.call(params.target, params.args ?? {}, {
        signal: ctx.signal,
        idempotencyKey: ctx.idempotencyKey,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      })
      return typeof result === 'object' && result !== null && !Array.isArray(result)
        ? (result as Record<string, unknown>)
        : { result: result ?? null }
    },
  }
  return [call as unknown as ActionDefinition]
}
