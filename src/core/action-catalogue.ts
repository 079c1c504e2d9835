import type { ActionRegistry } from './action.ts'
import type { JsonSchema } from './workflow.ts'

/**
 * The action catalogue: every registered action with its schemas, grouped by family (the part of the
 * type before the first dot: `file`, `git`, `data`, ...; a type without a dot is its own family).
 * `homeostat actions`, `homeostat actions show <type>` and `GET /api/workflows/actions` (the web
 * builder's palette) all print this one structure, so they always agree with the registry.
 */

export interface ActionCatalogueEntry {
  type: string
  family: string
  description: string
  /** True when the action changes the world; its start is made durable first. */
  sideEffects: boolean
  /** True when a dry run can show what it would do (`plan()`); read-only actions run for real instead. */
  plan: boolean
  /** `builtin`, or `plugin:<name>` for an action a plugin registered. */
  provider: string
  params: JsonSchema
  output?: JsonSchema
}

export interface ActionCatalogue {
  /** How many actions. */
  count: number
  /** Families in name order, each with its actions in type order. */
  families: Array<{ family: string; actions: ActionCatalogueEntry[] }>
}

/** The family of an action type: `git.commit` → `git`, `log` → `log`. */
export function actionFamily(type: string): string {
  const dot = type.indexOf('.')
  return dot < 0 ? type : type.slice(0, dot)
}

/**
 * Describes every action of `registry`. `providers` maps action types to the plugin that registered
 * them (the loader's record); the others are `builtin`.
 */
export function describeActions(
  registry: ActionRegistry,
  providers: ReadonlyMap<string, string> = new Map(),
): ActionCatalogue {
  const families = new Map<string, ActionCatalogueEntry[]>()
  const actions = registry.list()
  for (const a of actions) {
    const family = actionFamily(a.type)
    const entry: ActionCatalogueEntry = {
      type: a.type,
      family,
      description: a.description,
      sideEffects: a.sideEffects,
      plan: typeof a.plan === 'function',
      provider: providers.has(a.type) ? `plugin:${providers.get(a.type)!}` : 'builtin',
      params: a.params,
      ...(a.output === undefined ? {} : { output: a.output }),
    }
    families.set(family, [...(families.get(family) ?? []), entry])
  }
  return {
    count: actions.length,
    families: [...families]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([family, entries]) => ({
        family,
        actions: entries.sort((x, y) => x.type.localeCompare(y.type)),
      })),
  }
}
