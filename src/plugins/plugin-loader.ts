import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ActionRegistry } from '../core/action.ts'
import { HsError } from '../core/errors.ts'
import { triggerTypesOf } from '../core/trigger-types.ts'
import type { PluginDefinition } from './define-plugin.ts'
import { checkPlugin } from './plugin-validation.ts'

/**
 * Loads each plugin module and registers its actions, and its trigger types beside them
 * (`triggerTypesOf(actions)`); a broken plugin stops start-up with its name.
 */
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
      throw new HsError('HS_ERR_PLUGIN_INVALID', `plugin ${spec}: cannot load: ${(err as Error).message}`, {
        cause: err,
      })
    }
    // shape, name, action schemas, handlers and commands: HS_ERR_PLUGIN_INVALID naming the part at fault
    const plugin = checkPlugin(spec, mod.default, loaded)
    for (const action of plugin.actions ?? []) {
      if (!actions.has(action.type)) {
        actions.register(action)
        continue
      }
      const owner = loaded.find((p) => p.actions?.some((a) => a.type === action.type))
      throw new HsError(
        'HS_ERR_PLUGIN_INVALID',
        `plugin ${plugin.name}: action ${action.type} clashes with ${owner ? `plugin ${owner.name}'s action` : 'a built-in action'} of that type; give it another type (e.g. ${plugin.name}.${action.type.split('.').at(-1)!})`,
      )
    }
    for (const trigger of plugin.triggers ?? []) {
      try {
        triggerTypesOf(actions).register(trigger)
      } catch (err) {
        throw new HsError('HS_ERR_PLUGIN_INVALID', `plugin ${plugin.name}: ${(err as Error).message}`)
      }
    }
    loaded.push(plugin)
  }
  return loaded
}
