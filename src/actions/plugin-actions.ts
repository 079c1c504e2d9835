import { Ajv, type ValidateFunction } from 'ajv'
import type { ActionContext, ActionDefinition, ActionPlan } from '../core/action.ts'
import { describeViolations } from '../engine/param-checker.ts'
import { NonRetryableError } from '../core/errors.ts'
import { didYouMean } from '../core/suggest.ts'
import type { JsonSchema } from '../core/workflow.ts'

/**
 * `plugin.execute`: runs a command a plugin exports (`definePlugin({ commands: { name: fn } })`),
 * the "plugin operations" of the source document. A command is a function `(args, ctx)`, or
 * `{ description, params, sideEffects, run }` when it declares a JSON Schema for its `args`
 * (checked before it runs, and by a dry run) or is read-only (`sideEffects: false`: a dry run runs
 * it for real). `ctx` is the step's `ActionContext`: `signal`, `idempotencyKey`, `logger`, `run`.
 * What the command returns is the step's output: an object as it is, anything else as `{ result }`.
 */

/** The function form of a plugin command. */
export type PluginCommandFn = (args: Record<string, unknown>, ctx: ActionContext) => unknown

/** The declared form of a plugin command. */
export interface PluginCommandSpec {
  description?: string
  /** JSON Schema of `args`. */
  params?: JsonSchema
  /** Default true; false marks a read-only command (a dry run runs it). */
  sideEffects?: boolean
  run: PluginCommandFn
}

export type PluginCommand = PluginCommandFn | PluginCommandSpec

interface Entry {
  plugin: string
  command: string
  description?: string
  sideEffects: boolean
  validate?: ValidateFunction
  run: PluginCommandFn
}

/**
 * The commands of every loaded plugin, filled by the composition root after the plugins load (the
 * action is registered before, so workflows validate the same with or without plugins).
 */
export class PluginCommands {
  readonly #entries = new Map<string, Map<string, Entry>>()
  readonly #ajv = new Ajv({ allErrors: true, verbose: true, strict: false, useDefaults: true })

  /**
   * Adds a plugin's commands. Throws an `Error` naming the command for a command that is neither a
   * function nor `{ run }`, or whose `params` schema does not compile (the loader reports it as the
   * plugin's start-up error).
   */
  add(plugin: string, commands: Readonly<Record<string, PluginCommand>>): void {
    const table = new Map<string, Entry>()
    for (const [command, value] of Object.entries(commands)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(command))
        throw new Error(`command \`${command}\`: a command name is letters, digits, _ and -`)
      const spec: PluginCommandSpec | undefined =
        typeof value === 'function' ? { run: value } : typeof value?.run === 'function' ? value : undefined
      if (!spec) throw new Error(`command \`${command}\` must be a function or { run: function, params? }`)
      let validate: ValidateFunction | undefined
      if (spec.params !== undefined) {
        try {
          validate = this.#ajv.compile(spec.params)
        } catch (err) {
          throw new Error(`command \`${command}\`: its params schema is invalid: ${(err as Error).message}`, {
            cause: err,
          })
        }
      }
      table.set(command, {
        plugin,
        command,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        sideEffects: spec.sideEffects !== false,
        ...(validate ? { validate } : {}),
        run: spec.run,
      })
    }
    this.#entries.set(plugin, table)
  }

  /** Every command, by plugin then name. */
  list(): Array<{ plugin: string; command: string; description?: string; sideEffects: boolean }> {
    return [...this.#entries.values()]
      .flatMap((t) => [...t.values()])
      .map(({ plugin, command, description, sideEffects }) => ({
        plugin,
        command,
        sideEffects,
        ...(description === undefined ? {} : { description }),
      }))
      .sort((a, b) => a.plugin.localeCompare(b.plugin) || a.command.localeCompare(b.command))
  }

  /** The command, with `args` checked (defaults applied to a copy); a `NonRetryableError` says what is wrong. */
  resolve(
    plugin: string,
    command: string,
    args: Record<string, unknown>,
  ): { entry: Entry; args: Record<string, unknown> } {
    const table = this.#entries.get(plugin)
    if (!table) {
      const known = [...this.#entries.keys()]
      throw new NonRetryableError(
        `no plugin \`${plugin}\` is loaded${didYouMean(plugin, known) || '.'} Loaded plugins: ${known.join(', ') || 'none'} (homeostat.yaml \`plugins:\`).`,
      )
    }
    const entry = table.get(command)
    if (!entry) {
      const known = [...table.keys()]
      throw new NonRetryableError(
        `plugin \`${plugin}\` has no command \`${command}\`${didYouMean(command, known) || '.'} Its commands: ${known.join(', ') || 'none'}.`,
      )
    }
    const copy = structuredClone(args)
    if (entry.validate && !entry.validate(copy))
      throw new NonRetryableError(
        `args of ${plugin}.${command}: ${describeViolations(entry.validate.errors, '/args')}`,
      )
    return { entry, args: copy }
  }
}

export interface PluginExecuteParams {
  plugin: string
  command: string
  args?: Record<string, unknown>
}

function wrap(result: unknown): Record<string, unknown> {
  const json = result === undefined ? null : (JSON.parse(JSON.stringify(result) ?? 'null') as unknown)
  return typeof json === 'object' && json !== null && !Array.isArray(json)
    ? (json as Record<string, unknown>)
    : { result: json }
}

/** The plugin family: `plugin.execute`, over the commands `commands` holds when the step runs. */
export function pluginActions(commands: PluginCommands): ActionDefinition[] {
  const execute: ActionDefinition<PluginExecuteParams, Record<string, unknown>> = {
    type: 'plugin.execute',
    description: 'Runs a command exported by a plugin (`commands:` of definePlugin) with the given args.',
    params: {
      type: 'object',
      properties: {
        plugin: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$',
          description: 'Name of a plugin listed under `plugins:` in homeostat.yaml',
        },
        command: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$',
          description: 'A command the plugin exports',
        },
        args: {
          type: 'object',
          additionalProperties: true,
          description:
            "The command's argument object (checked against its `params` schema when it declares one)",
        },
      },
      required: ['plugin', 'command'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      description: 'What the command returned: an object as it is, any other value as `{ result }`',
      additionalProperties: true,
    },
    sideEffects: true,
    execute: async (params, ctx) => {
      const { entry, args } = commands.resolve(params.plugin, params.command, params.args ?? {})
      if (ctx.signal.aborted) throw ctx.signal.reason as Error
      return wrap(await entry.run(args, ctx))
    },
    plan: async (params, ctx): Promise<ActionPlan> => {
      const { entry, args } = commands.resolve(params.plugin, params.command, params.args ?? {})
      const target = `${entry.plugin}.${entry.command}`
      if (!entry.sideEffects) {
        return {
          summary: `ran read-only plugin command ${target}`,
          details: { plugin: entry.plugin, command: entry.command, output: wrap(await entry.run(args, ctx)) },
        }
      }
      return {
        summary: `run plugin command ${target}`,
        details: { plugin: entry.plugin, command: entry.command, args },
      }
    },
  }
  return [execute as unknown as ActionDefinition]
}
