import { createHash } from 'node:crypto'
import type { ActionDefinition } from '../core/action.ts'
import { NonRetryableError } from '../core/errors.ts'
import type { EventPublisher } from '../core/publisher-port.ts'

export interface EventEmitParams {
  /** Dotted type, e.g. `healing.escalation_requested`. */
  type: string
  data?: unknown
  /** URI-reference of the producer; the ingest's default when absent. */
  source?: string
  subject?: string
}

/**
 * The id an emitted event gets: derived from the step's idempotency key (`runId:stepId:iteration`),
 * so a retried or crash-recovered step publishes the same event again, which the ingest deduplicates
 * by (`source`, `id`) instead of routing a second one. A hash keeps it short and opaque.
 */
export function emittedEventId(idempotencyKey: string): string {
  return `hs-${createHash('sha256').update(`event.emit\n${idempotencyKey}`).digest('hex').slice(0, 32)}`
}

/** `event.emit`: publishes an event into the mesh, where it is validated, stored and routed like any other. */
export function eventActions(publisher: EventPublisher): ActionDefinition[] {
  const emit: ActionDefinition<EventEmitParams, { id: string; type: string }> = {
    type: 'event.emit',
    description: 'Publishes an event; workflows subscribed to its type run.',
    params: {
      type: 'object',
      properties: {
        type: {
          type: 'string',
          pattern: '^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$',
          description: 'Dotted event type, e.g. healing.escalation_requested',
        },
        data: { description: "The event's payload, checked against the schema registered for its type" },
        source: { type: 'string', minLength: 1, description: 'URI-reference of the producer' },
        subject: { type: 'string', minLength: 1 },
      },
      required: ['type'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: { id: { type: 'string' }, type: { type: 'string' } },
      required: ['id', 'type'],
    },
    sideEffects: true,
    plan: (params, ctx) => ({
      summary: `publish a ${params.type} event (id ${emittedEventId(ctx.idempotencyKey)})`,
      details: {
        type: params.type,
        id: emittedEventId(ctx.idempotencyKey),
        ...(params.source === undefined ? {} : { source: params.source }),
        ...(params.subject === undefined ? {} : { subject: params.subject }),
        data: params.data ?? null,
      },
    }),
    execute: async (params, ctx) => {
      const result = await publisher.publish(
        {
          type: params.type,
          id: emittedEventId(ctx.idempotencyKey),
          ...(params.data === undefined ? {} : { data: params.data }),
          ...(params.source === undefined ? {} : { source: params.source }),
          ...(params.subject === undefined ? {} : { subject: params.subject }),
        },
        { causedBy: { runId: ctx.run.id, stepId: ctx.step.id } },
      )
      if (!result.accepted) {
        const problems = (result.problems ?? []).map((p) => `${p.pointer || '/'}: ${p.message}`)
        throw new NonRetryableError(
          `event ${params.type} was rejected${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`,
        )
      }
      return { id: result.id, type: params.type }
    },
  }
  return [emit as unknown as ActionDefinition]
}
