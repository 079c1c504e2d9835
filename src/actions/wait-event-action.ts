import type { ActionDefinition } from '../core/action.ts'
import { DURATION_SCHEMA, durationMs } from './duration-param.ts'
import { NonRetryableError } from '../core/errors.ts'

/** What `wait.event` needs from the mesh: a durable wait, indexed for the ingest (mesh/event-waits.ts). */
export interface EventWaitRegistry {
  register(wait: {
    runId: string
    signal: string
    pattern: string
    match?: Record<string, unknown>
    condition?: string
    expiresAt?: number
  }): Promise<void>
}

export interface WaitEventParams {
  /** Event type, `prefix.*` or `*`. */
  type: string
  /** CEL over the event (`data`, `event`, `source`, `subject`), e.g. `data.status == "approved"`. */
  condition?: string
  /** Field equalities on `data` (`{component_id: api}`); safe for values templated from the run. */
  match?: Record<string, unknown>
  timeout?: string | number
  on_timeout?: 'fail' | 'succeed'
}

/**
 * `wait.event`: suspends the run (status `waiting`, no worker held) until an event of `type` arrives
 * that satisfies `match` and `condition`, and outputs that event (the CloudEvent envelope). Only events
 * ingested after the step started count. The wait is stored before the run suspends and the wake-up
 * is written in the event's own transaction, so neither a crash nor a restart loses it.
 */
export function waitEventAction(waits: EventWaitRegistry | undefined): ActionDefinition {
  const action: ActionDefinition<WaitEventParams, unknown> = {
    type: 'wait.event',
    description:
      'Suspends the run until an event of a type (and matching a CEL condition) arrives, or the timeout passes; outputs the event.',
    params: {
      type: 'object',
      properties: {
        type: {
          type: 'string',
          minLength: 1,
          description: 'Event type to wait for, a prefix ending in .* (approval.*), or *',
        },
        condition: {
          type: 'string',
          minLength: 1,
          description:
            'CEL over the event: data, event (envelope), source, subject. Write values from the run in `match`, not into this text.',
        },
        match: {
          type: 'object',
          description: 'Field equalities the event data must have, e.g. {request_id: "{{ run.id }}"}',
        },
        timeout: { ...DURATION_SCHEMA, description: 'Give up after this long (default: wait forever)' },
        on_timeout: {
          enum: ['fail', 'succeed'],
          default: 'fail',
          description: 'On timeout: fail the step, or succeed with {timedOut: true}',
        },
      },
      required: ['type'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      description: 'The event that arrived (CloudEvents envelope), or {timedOut: true}',
    },
    sideEffects: false,
    execute: async (params, ctx) => {
      if (!waits)
        throw new NonRetryableError(
          'wait.event needs the event mesh (run it under `homeostat serve` or `worker`)',
        )
      const timeoutMs = durationMs(params.timeout, 'timeout', undefined)
      const signal = `wait.event:${ctx.step.id}:${ctx.step.iteration}`
      try {
        await waits.register({
          runId: ctx.run.id,
          signal,
          pattern: params.type,
          ...(params.match === undefined ? {} : { match: params.match }),
          ...(params.condition === undefined ? {} : { condition: params.condition }),
          ...(timeoutMs === undefined ? {} : { expiresAt: Date.now() + timeoutMs }),
        })
      } catch (err) {
        throw new NonRetryableError(`wait.event: ${(err as Error).message}`, { cause: err })
      }
      return ctx.suspend({ signal, timeoutMs, onTimeout: params.on_timeout ?? 'fail' })
    },
  }
  return action as unknown as ActionDefinition
}
