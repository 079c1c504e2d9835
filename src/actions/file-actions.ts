import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** `file.read|write|append|move|copy|delete|list`, confined to `files.roots`. */
export function fileActions(_services: ActionServices): ActionDefinition[] {
  return []
}
