import type { ErrorObject, ValidateFunction } from 'ajv'
import { newAjv } from './ajv-messages.ts'
import { cronProblem } from './cron-schedule.ts'
import { isPlainObject, join } from './json-pointer.ts'
import { PLUGIN_TRIGGER_TYPE_PATTERN, triggerKey, type TriggerSourceDefinition } from './trigger-port.ts'
import type { WorkflowIssue } from './workflow-issue.ts'
import type { TriggerSpec } from './workflow.ts'
import { TRIGGER_COMMON_FIELDS, TRIGGER_TYPES } from './workflow-schema.ts'

/**
 * Trigger types beyond the built-in ones (`TRIGGER_TYPES`): the plugin trigger sources, and the checks
 * of triggers that a JSON Schema cannot express (unique trigger ids, cron patterns).
 *
 * A catalogue belongs to one action catalogue (`triggerTypesOf(actions)`): plugins register actions
 * and triggers together, and every validation entry point already receives the action catalogue, so
 * a workflow is checked against exactly the plugins of the process that loads it.
 */

interface Entry {
  definition: TriggerSourceDefinition
  validate: ValidateFunction
}

const UNKNOWN_TYPE = /^\/triggers\/(\d+)\/type$/

export class TriggerTypeCatalogue {
  readonly #entries = new Map<string, Entry>()
  readonly #ajv = newAjv({ strict: false })

  /** Adds a trigger type; throws an `Error` naming what is wrong with the definition. */
  register(definition: TriggerSourceDefinition): void {
    const type = (definition as { type?: unknown }).type
    if (typeof type !== 'string' || !PLUGIN_TRIGGER_TYPE_PATTERN.test(type))
      throw new Error(
        `trigger type ${JSON.stringify(type)} is not a valid name: use lowercase letters, digits and _, starting with a letter`,
      )
    if (Object.hasOwn(TRIGGER_TYPES, type)) throw new Error(`trigger type \`${type}\` is built in`)
    if (this.#entries.has(type)) throw new Error(`trigger type \`${type}\` is already registered`)
    if (typeof definition.start !== 'function')
      throw new Error(`trigger type \`${type}\` has no start(trigger, target, ctx) function`)
    const fields = definition.fields as unknown
    if (!isPlainObject(fields))
      throw new Error(`trigger type \`${type}\`: \`fields\` must map names to JSON Schemas`)
    for (const name of Object.keys(fields)) {
      if (Object.hasOwn(TRIGGER_COMMON_FIELDS, name))
        throw new Error(
          `trigger type \`${type}\`: field \`${name}\` is common to every trigger; choose another name`,
        )
    }
    for (const name of definition.required ?? []) {
      if (!Object.hasOwn(fields, name))
        throw new Error(`trigger type \`${type}\`: required field \`${name}\` is not in \`fields\``)
    }
    let validate: ValidateFunction
    try {
      validate = this.#ajv.compile({
        type: 'object',
        required: ['type', ...(definition.required ?? [])],
        additionalProperties: false,
        properties: { ...TRIGGER_COMMON_FIELDS, ...fields },
      })
    } catch (err) {
      throw new Error(
        `trigger type \`${type}\`: its field schemas do not compile: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      )
    }
    this.#entries.set(type, { definition, validate })
  }

  get(type: string): TriggerSourceDefinition | undefined {
    return this.#entries.get(type)?.definition
  }

  list(): TriggerSourceDefinition[] {
    return [...this.#entries.values()].map((e) => e.definition)
  }

  /**
   * The workflow's structural errors (Ajv, against `WORKFLOW_SCHEMA`) with plugin triggers checked
   * against their own fields instead of being reported as unknown types; a type that is still
   * unknown lists the plugin types among the known ones.
   */
  structural(doc: unknown, errors: readonly ErrorObject[]): ErrorObject[] {
    if (this.#entries.size === 0) return [...errors]
    const triggers = isPlainObject(doc) && Array.isArray(doc.triggers) ? (doc.triggers as unknown[]) : []
    const plugin = new Map<number, Entry>()
    triggers.forEach((t, i) => {
      const entry = isPlainObject(t) && typeof t.type === 'string' ? this.#entries.get(t.type) : undefined
      if (entry) plugin.set(i, entry)
    })
    const known = [...Object.keys(TRIGGER_TYPES), ...this.#entries.keys()]
    const out: ErrorObject[] = []
    for (const e of errors) {
      const m = e.keyword === 'enum' ? UNKNOWN_TYPE.exec(e.instancePath) : null
      if (m === null) out.push(e)
      else if (!plugin.has(Number(m[1]))) out.push({ ...e, params: { ...e.params, allowedValues: known } })
    }
    for (const [i, entry] of plugin) {
      if (entry.validate(triggers[i])) continue
      for (const e of entry.validate.errors ?? [])
        out.push({ ...e, instancePath: join('/triggers', i) + e.instancePath })
    }
    return out
  }
}

const catalogues = new WeakMap<object, TriggerTypeCatalogue>()

/** The plugin trigger types registered beside this action catalogue (created empty on first use). */
export function triggerTypesOf(actions: object): TriggerTypeCatalogue {
  let catalogue = catalogues.get(actions)
  if (!catalogue) {
    catalogue = new TriggerTypeCatalogue()
    catalogues.set(actions, catalogue)
  }
  return catalogue
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])

/**
 * Checks of a normalised workflow's triggers beyond its schema: trigger ids unique (an id-less
 * trigger is known by its index, so an id `0` may clash with it), schedule patterns that croner
 * accepts (the field count is checked by the validator itself).
 */
export function triggerIssues(doc: unknown): WorkflowIssue[] {
  if (!isPlainObject(doc) || !Array.isArray(doc.triggers)) return []
  const issues: WorkflowIssue[] = []
  const keys = new Map<string, number>()
  ;(doc.triggers as unknown[]).forEach((t, i) => {
    if (!isPlainObject(t)) return
    const label = `trigger ${i + 1}${typeof t.type === 'string' ? ` (\`${t.type}\`)` : ''}`
    if (t.id === undefined || typeof t.id === 'string') {
      const key = triggerKey(t as TriggerSpec, i)
      const first = keys.get(key)
      if (first === undefined) keys.set(key, i)
      else
        issues.push({
          pointer: t.id === undefined ? join('/triggers', i) : join('/triggers', i, 'id'),
          code: 'HS_ERR_WORKFLOW_INVALID',
          message: `${label}: it is known as \`${key}\`, like trigger ${first + 1}; give each trigger a unique \`id\` (a trigger without one is known by its index from 0)`,
        })
    }
    if (t.type === 'schedule' && typeof t.cron === 'string') {
      const cron = t.cron.trim()
      const fields = cron.split(/\s+/).length
      if (!(CRON_MACROS.has(cron) || fields === 5 || fields === 6)) return
      const problem = cronProblem(cron)
      if (problem !== undefined)
        issues.push({
          pointer: join('/triggers', i, 'cron'),
          code: 'HS_ERR_WORKFLOW_INVALID',
          message: `${label}: \`cron\` \`${cron}\` is not a valid cron pattern: ${problem}`,
        })
    }
  })
  return issues
}
