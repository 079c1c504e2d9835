import { ActionRegistry } from '../core/action.ts'
import { dataSet } from './data-actions.ts'
import { failAction, logAction } from './log-actions.ts'
import { waitSignal, waitSleep } from './wait-actions.ts'

/** A registry holding every built-in action; plugins and tests add theirs with `register`. */
export function builtinActions(): ActionRegistry {
  return new ActionRegistry()
    .register(dataSet)
    .register(waitSleep)
    .register(waitSignal)
    .register(logAction)
    .register(failAction)
}
