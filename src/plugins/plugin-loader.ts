import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ActionRegistry } from '../core/action.ts'
import { HsError } from '../core/errors.ts'
import type { PluginDefinition } from './define-plugin.ts'

/** Loads each plugin module and registers its actions; a broken plugin stops start-up with its name. */
export async function loadPlugins(
  specs: readonly string[],
  baseDir: string,
  actions: ActionRegistry,
): Promise<PluginDefinition[]> {
  const loaded: PluginDefinition[] = []
  for (const spec of specs) {
    const target =
      spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(baseDir, spec)).href : spec
    let mod: { default?: unknown }
    try {
      mod = (await import(target)) as { default?: unknown }
    } catch (err) {
      throw new HsError('HS_ERR_CONFIG_INVALID', `plugin ${spec}: cannot load: ${(err as Error).message}`, {
        cause: err,
      })
    }
    const plugin = mod.default as PluginDefinition | undefined
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
      throw new HsError(
        'HS_ERR_CONFIG_INVALID',
        `plugin ${spec}: the default export must be definePlugin({ name, actions })`,
      )
    }
    for (const action of plugin.actions ?? []) {
      try {
        actions.register(action)
      } catch (err) {
        throw new HsError('HS_ERR_CONFIG_INVALID', `plugin ${plugin.name}: ${(err as Error).message}`)
      }
    }
    loaded.push(plugin)
  }
  return loaded
}
