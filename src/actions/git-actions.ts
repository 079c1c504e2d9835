import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** `git.*` through the git CLI with argument arrays, repositories inside the roots. */
export function gitActions(_services: ActionServices): ActionDefinition[] {
  return []
}
