import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** `notify.slack` (incoming webhook) and `notify.email` (SMTP through nodemailer). */
export function notifyActions(_services: ActionServices): ActionDefinition[] {
  return []
}
