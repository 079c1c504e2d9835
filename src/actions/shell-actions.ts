import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** `shell.exec`: an argument array spawned without a shell, cwd inside the roots. */
export function shellActions(_services: ActionServices): ActionDefinition[] {
  return []
}
