import type { ActionDefinition } from '../core/action.ts'

/**
 * A plugin: an ES module whose default export is `definePlugin({...})`, listed in homeostat.yaml
 * under `plugins:` by path (relative to the config file) or package name. This version contributes
 * actions; triggers and handlers join in later releases through the same object.
 */
export interface PluginDefinition {
  /** Unique name, e.g. `acme-tools`. */
  name: string
  version?: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own parameter type
  actions?: ReadonlyArray<ActionDefinition<any, any>>
}

/** Identity function that gives plugin authors type checking. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin
}
