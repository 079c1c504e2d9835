import { ActionRegistry, type ActionDefinition } from '../../src/core/action.ts'

function action(type: string, params: Record<string, unknown>): ActionDefinition {
  return { type, description: `test action ${type}`, params, sideEffects: false, execute: (p) => p }
}

/** The actions the workflow-model tests validate against, each with a parameter JSON Schema. */
export function testActions(): ActionRegistry {
  return new ActionRegistry()
    .register(action('data.set', { type: 'object', additionalProperties: true }))
    .register(
      action('wait.sleep', {
        type: 'object',
        properties: { duration: { type: ['string', 'number'] } },
        required: ['duration'],
        additionalProperties: false,
      }),
    )
    .register(
      action('log', {
        type: 'object',
        properties: { message: { type: 'string' }, level: { enum: ['info', 'warn', 'error'] } },
        required: ['message'],
        additionalProperties: false,
      }),
    )
    .register(
      action('fail', {
        type: 'object',
        properties: { message: { type: 'string' }, retryable: { type: 'boolean' } },
        additionalProperties: false,
      }),
    )
}
