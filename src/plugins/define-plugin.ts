import type { ActionContext, ActionDefinition } from '../core/action.ts'
import type { JsonSchema } from '../core/workflow.ts'
import type { TriggerSourceDefinition } from '../core/trigger-port.ts'

/**
 * A plugin: an ES module whose default export is `definePlugin({...})`, listed in homeostat.yaml
 * under `plugins:` by path (relative to the config file) or package name. It contributes actions
 * (joining the catalogue), handlers (for `handler.call`), commands (for `plugin.execute`) and
 * trigger types; docs/plugins.md shows how to write one.
 */
export interface PluginDefinition {
  /** Unique name, e.g. `acme-tools`. */
  name: string
  version?: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own parameter type
  actions?: ReadonlyArray<ActionDefinition<any, any>>
  /**
   * In-process handlers by name: objects whose methods `handler.call` reaches as `<name>.<method>`,
   * called like module handlers: `method(args, { signal, idempotencyKey, handler, method })`.
   */
  handlers?: Readonly<Record<string, object>>
  /** Commands `plugin.execute` runs as `{ plugin: <name>, command, args }`. */
  commands?: Readonly<Record<string, PluginCommand>>
  /**
   * Trigger types (docs/triggers.md): each names its `type`, its field schemas, and
   * `start(trigger, target, ctx) → stop`; it emits through `ctx.emit(data)`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each trigger type has its own fields
  triggers?: ReadonlyArray<TriggerSourceDefinition<any>>
}

/**
 * A plugin command: a function of the step's `args` and its `ActionContext` (`signal`,
 * `idempotencyKey`, `logger`, `run`), or the declared form with a JSON Schema for `args` and
 * `sideEffects: false` for a read-only command (a dry run runs it). What it returns is the step's output.
 */
export type PluginCommand =
  | ((args: Record<string, unknown>, ctx: ActionContext) => unknown)
  | {
      description?: string
      params?: JsonSchema
      sideEffects?: boolean
      run: (args: Record<string, unknown>, ctx: ActionContext) => unknown
    }

/** Identity function that gives plugin authors type checking. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin
}
