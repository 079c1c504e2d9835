import { ActionRegistry } from '../core/action.ts'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from './action-services.ts'
import { aiActions } from './ai-actions.ts'
import { chatActions } from './chat-actions.ts'
import { dataActions } from './data-actions.ts'
import { eventActions } from './event-actions.ts'
import { fileActions } from './file-actions.ts'
import { gitActions } from './git-actions.ts'
import { handlerActions } from './handler-actions.ts'
import { httpActions } from './http-actions.ts'
import { failAction, logAction } from './log-actions.ts'
import { notifyActions } from './notify-actions.ts'
import { PluginCommands, pluginActions } from './plugin-actions.ts'
import { shellActions } from './shell-actions.ts'
import { waitSignal, waitSleep } from './wait-actions.ts'
import { waitEventAction } from './wait-event-action.ts'

/**
 * A registry holding every built-in action, wired to `services` (defaults: nothing allowed, see
 * `DEFAULT_ACTION_SERVICES`). Every family is registered whatever the services, so a workflow
 * validates the same everywhere; plugins and tests add theirs with `register`.
 */
export function builtinActions(services: Partial<ActionServices> = {}): ActionRegistry {
  const s: ActionServices = { ...DEFAULT_ACTION_SERVICES, ...services }
  const registry = new ActionRegistry()
    .register(waitSleep)
    .register(waitSignal)
    .register(waitEventAction(s.waits))
    .register(logAction)
    .register(failAction)
  for (const action of dataActions()) registry.register(action)
  for (const action of chatActions(s.chat)) registry.register(action)
  for (const action of pluginActions(s.pluginCommands ?? new PluginCommands())) registry.register(action)
  for (const family of [fileActions, shellActions, gitActions, httpActions, aiActions, notifyActions]) {
    for (const action of family(s)) registry.register(action)
  }
  if (s.invoker) for (const action of handlerActions(s.invoker)) registry.register(action)
  if (s.publisher) for (const action of eventActions(s.publisher)) registry.register(action)
  return registry
}
