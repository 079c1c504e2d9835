import type { ActionDefinition } from '../core/action.ts'

/** `data.set`: outputs its parameters as they are after templates were rendered. */
export const dataSet: ActionDefinition<Record<string, unknown>, Record<string, unknown>> = {
  type: 'data.set',
  description: 'Outputs the given object (templates rendered): name values for later steps.',
  params: { type: 'object', additionalProperties: true },
  output: { type: 'object', additionalProperties: true },
  sideEffects: false,
  execute: (params) => params,
}
