import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** `http.request` through the destination guard. */
export function httpActions(_services: ActionServices): ActionDefinition[] {
  return []
}
