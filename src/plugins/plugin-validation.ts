import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { HsError } from '../core/errors.ts'
import { HANDLER_NAME_PATTERN } from '../core/handler-port.ts'
import type { PluginDefinition } from './define-plugin.ts'

/**
 * The start-up checks of a plugin's default export, so a broken plugin stops `homeostat` with one
 * clear `HS_ERR_PLUGIN_INVALID` naming the plugin and the part at fault, instead of failing later
 * inside a run: the shape of `definePlugin({...})`, a unique plugin name, every action's fields and
 * JSON Schemas (compiled with Ajv, as the engine will), every handler and every command.
 */

/** A plugin name: what `plugin.execute` names and error messages show. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
/** An action type: dotted words, e.g. `acme.deploy`. */
const ACTION_TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/
const COMMAND_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/

function fail(where: string, message: string): never {
  throw new HsError('HS_ERR_PLUGIN_INVALID', `plugin ${where}: ${message}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats.default(ajv)
  return ajv
}

function compiles(ajv: Ajv, schema: unknown, where: string, what: string): void {
  if (!isRecord(schema) && typeof schema !== 'boolean') fail(where, `${what} must be a JSON Schema object`)
  try {
    ajv.compile(schema)
  } catch (err) {
    fail(where, `${what} is not a valid JSON Schema: ${(err as Error).message}`)
  }
}

/** Functions an object offers as handler methods (own and inherited, up to `Object.prototype`). */
function hasMethod(value: object): boolean {
  for (let o: object | null = value; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(o, name)?.value === 'function')
        return true
    }
  }
  return false
}

/**
 * Checks the default export of the plugin module `spec` against the plugins loaded before it and
 * returns it typed. Throws `HS_ERR_PLUGIN_INVALID`.
 */
export function checkPlugin(
  spec: string,
  value: unknown,
  earlier: readonly PluginDefinition[],
): PluginDefinition {
  if (!isRecord(value) || typeof value.name !== 'string')
    fail(spec, 'the default export must be definePlugin({ name, actions, handlers, commands, triggers })')
  const name = value.name
  if (!PLUGIN_NAME_PATTERN.test(name))
    fail(
      spec,
      `name ${JSON.stringify(name)} must be letters, digits, _ and -, starting with a letter or digit`,
    )
  if (earlier.some((p) => p.name === name))
    fail(name, `the name is taken by another plugin listed before ${spec} under \`plugins:\`; rename one`)
  const ajv = newAjv()
  if (value.actions !== undefined && !Array.isArray(value.actions)) fail(name, '`actions` must be a list')
  const types = new Set<string>()
  for (const [i, raw] of ((value.actions ?? []) as unknown[]).entries()) {
    if (!isRecord(raw)) fail(name, `actions[${i}] must be an action definition object`)
    const type = raw.type
    if (typeof type !== 'string' || !ACTION_TYPE_PATTERN.test(type))
      fail(
        name,
        `actions[${i}].type must be a dotted name such as \`${name}.do_thing\`, not ${JSON.stringify(type)}`,
      )
    const at = `${name}, action ${type}`
    if (types.has(type)) fail(name, `action ${type} is listed twice`)
    types.add(type)
    if (typeof raw.description !== 'string' || raw.description === '')
      fail(at, '`description` must be a sentence saying what it does (the catalogue shows it)')
    if (typeof raw.sideEffects !== 'boolean')
      fail(at, '`sideEffects` must be true (it changes the world) or false (read-only)')
    if (typeof raw.execute !== 'function') fail(at, '`execute(params, ctx)` must be a function')
    if (raw.plan !== undefined && typeof raw.plan !== 'function')
      fail(at, '`plan(params, ctx)` must be a function')
    compiles(ajv, raw.params, at, '`params`')
    if (raw.output !== undefined) compiles(ajv, raw.output, at, '`output`')
  }
  if (value.handlers !== undefined) {
    if (!isRecord(value.handlers))
      fail(name, '`handlers` must be a mapping of handler names to objects of methods')
    for (const [handler, methods] of Object.entries(value.handlers)) {
      const at = `${name}, handler ${handler}`
      if (!HANDLER_NAME_PATTERN.test(handler))
        fail(at, 'a handler name is letters, digits, _ and - (it is written before the dot of a target)')
      if (typeof methods !== 'object' || methods === null || !hasMethod(methods))
        fail(at, 'must be an object with at least one method (`{ count(args, ctx) { ... } }`)')
      const owner = earlier.find((p) => p.handlers !== undefined && handler in p.handlers)
      if (owner) fail(at, `handler ${handler} is also provided by plugin ${owner.name}; rename one`)
    }
  }
  if (value.commands !== undefined) {
    if (!isRecord(value.commands)) fail(name, '`commands` must be a mapping of command names to functions')
    for (const [command, raw] of Object.entries(value.commands)) {
      const at = `${name}, command ${command}`
      if (!COMMAND_PATTERN.test(command)) fail(at, 'a command name is letters, digits, _ and -')
      if (typeof raw === 'function') continue
      if (!isRecord(raw) || typeof raw.run !== 'function')
        fail(at, 'must be a function (args, ctx) or { description, params, sideEffects, run }')
      if (raw.params !== undefined) compiles(ajv, raw.params, at, '`params`')
    }
  }
  return value as unknown as PluginDefinition
}
