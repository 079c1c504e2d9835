import type { Command } from 'commander'
import { stringify } from 'yaml'
import { describeActions, type ActionCatalogue, type ActionCatalogueEntry } from '../core/action-catalogue.ts'
import { HsError } from '../core/errors.ts'
import { didYouMean } from '../core/suggest.ts'
import { actionCatalogue, pluginProviders, pluginsOf } from './app.ts'
import type { GlobalOptions } from './common.ts'
import { resolveConfig } from './config.ts'
import { paint, print, printJson } from './output.ts'

/**
 * `homeostat actions` (the catalogue by family) and `homeostat actions show <type>` (one action's
 * parameter and output schemas). Both read the configuration and the plugins only: no store is
 * opened and no handler is loaded, so they work before anything is set up.
 */

async function loadCatalogue(program: Command): Promise<ActionCatalogue> {
  const config = resolveConfig(program.opts<GlobalOptions>(), process.env, process.cwd())
  const unused = async (): Promise<never> => {
    throw new Error('not available while listing actions')
  }
  const actions = await actionCatalogue(config, { call: unused, describe: () => [] }, { publish: unused })
  return describeActions(actions, pluginProviders(pluginsOf(actions)))
}

function effects(a: ActionCatalogueEntry): string {
  if (!a.sideEffects) return 'read-only'
  return a.plan ? 'side effects, plan' : 'side effects'
}

/** The catalogue as a person reads it: a heading per family, one aligned line per action. */
export function formatCatalogue(catalogue: ActionCatalogue): string {
  const all = catalogue.families.flatMap((f) => f.actions)
  const typeWidth = Math.max(4, ...all.map((a) => a.type.length))
  const effectWidth = Math.max(...all.map((a) => effects(a).length))
  const lines: string[] = []
  for (const { family, actions } of catalogue.families) {
    lines.push(paint('bold', `${family} (${actions.length})`))
    for (const a of actions) {
      const provider = a.provider === 'builtin' ? '' : ` ${paint('cyan', `[${a.provider}]`)}`
      const effect = effects(a)
      lines.push(
        `  ${a.type.padEnd(typeWidth)}  ${paint(a.sideEffects ? 'yellow' : 'green', effect)}${' '.repeat(effectWidth - effect.length)}  ${a.description}${provider}`,
      )
    }
  }
  lines.push('', `${catalogue.count} actions; \`homeostat actions show <type>\` prints an action's schemas`)
  return lines.join('\n')
}

/** One action: what it does, then its parameter and output schemas as YAML. */
export function formatAction(a: ActionCatalogueEntry): string {
  const dryRun = !a.sideEffects
    ? 'runs for real in a dry run (read-only)'
    : a.plan
      ? 'a dry run shows its plan'
      : 'no plan: a dry run cannot show what it would do'
  return [
    `${paint('bold', a.type)} — ${a.description}`,
    `  family ${a.family} · ${a.sideEffects ? 'side effects' : 'read-only'} · ${dryRun} · provider ${a.provider}`,
    '',
    paint('bold', 'parameters (with:)'),
    stringify(a.params).trimEnd().replace(/^/gm, '  '),
    '',
    paint('bold', 'output (steps.<id>.output)'),
    a.output === undefined ? '  (not declared)' : stringify(a.output).trimEnd().replace(/^/gm, '  '),
  ].join('\n')
}

export function registerActionsCommands(program: Command): void {
  const actions = program
    .command('actions')
    .description('list every action a step can use, by family (built-ins and plugins)')
    .action(async () => {
      const catalogue = await loadCatalogue(program)
      if (program.opts<GlobalOptions>().json) printJson(catalogue)
      else print(formatCatalogue(catalogue))
    })
  actions
    .command('show <type>')
    .description("print an action's parameter and output JSON Schemas (YAML; JSON with --json)")
    .action(async (type: string) => {
      const catalogue = await loadCatalogue(program)
      const all = catalogue.families.flatMap((f) => f.actions)
      const entry = all.find((a) => a.type === type)
      if (!entry)
        throw new HsError(
          'HS_ERR_ACTION_UNKNOWN',
          `no action \`${type}\`${
            didYouMean(
              type,
              all.map((a) => a.type),
            ) || '.'
          } \`homeostat actions\` lists the ${all.length} registered actions.`,
        )
      if (program.opts<GlobalOptions>().json) printJson(entry)
      else print(formatAction(entry))
    })
}
