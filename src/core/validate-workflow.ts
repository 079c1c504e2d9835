import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv } from 'ajv'
import type { ActionDefinition, ActionRegistry } from './action.ts'
import { parseDuration } from './duration.ts'
import { compileExpression, isTemplateString, templateProblems, templateUses } from './expr/index.ts'
import { dotted, get, isPlainObject, join } from './json-pointer.ts'
import { didYouMean, show } from './suggest.ts'
import { ajvIssues, newAjv } from './ajv-messages.ts'
import { shortestCycle, stronglyConnected } from './step-cycles.ts'
import { triggerIssues, triggerTypesOf } from './trigger-types.ts'
import type { WorkflowIssue, WorkflowIssueCode } from './workflow-issue.ts'
import { EDGE_WHEN } from './workflow.ts'
import { MAX_STEPS, WORKFLOW_SCHEMA } from './workflow-schema.ts'

/**
 * Checks a normalised workflow: first its structure against `WORKFLOW_SCHEMA`, then what a schema
 * cannot express: step references and cycles, registered actions and their parameter schemas, CEL
 * expressions and `{{ }}` templates, durations, input schemas. Every check is defensive about types
 * (the structural problems are already reported) so one run reports every problem at once.
 */

let workflowValidator: ValidateFunction | undefined
function validateStructure(doc: unknown): ErrorObject[] {
  workflowValidator ??= newAjv({ strict: true }).compile(WORKFLOW_SCHEMA)
  return workflowValidator(doc) ? [] : [...(workflowValidator.errors ?? [])]
}

/** One Ajv per registry, and one compiled validator per action definition. */
const paramValidators = new WeakMap<
  ActionRegistry,
  { ajv: Ajv; byAction: WeakMap<object, ValidateFunction | Error> }
>()

function paramValidator(registry: ActionRegistry, action: ActionDefinition): ValidateFunction | Error {
  let entry = paramValidators.get(registry)
  if (!entry) {
    entry = { ajv: newAjv({ strict: false }), byAction: new WeakMap() }
    paramValidators.set(registry, entry)
  }
  let validate = entry.byAction.get(action)
  if (!validate) {
    try {
      validate = entry.ajv.compile(action.params)
    } catch (err) {
      validate = err instanceof Error ? err : new Error(String(err))
    }
    entry.byAction.set(action, validate)
  }
  return validate
}

/** Why `secrets` is refused outside a step's `with` (docs/secrets-and-dry-run.md). */
const SECRETS_ONLY_IN_WITH =
  "secrets can only be used inside a step's `with` (as {{ secrets.NAME }}), so their values reach the action and nothing else; pass the value to the step that needs it"

/** Secret names as `homeostat secrets set` accepts them. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

/** Input schemas are user data: compiled, then removed from the instance so it does not grow. */
let inputAjv: Ajv | undefined

/** Ids whose `/api/workflows/<id>` path the API uses for something else. */
const RESERVED_WORKFLOW_IDS = new Set(['actions'])

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])

export function validateNormalisedWorkflow(doc: unknown, actions: ActionRegistry): WorkflowIssue[] {
  if (!isPlainObject(doc)) {
    return [
      {
        pointer: '',
        code: 'HS_ERR_WORKFLOW_INVALID',
        message: `a workflow must be a mapping with \`id\` and \`steps\` (got ${describeType(doc)})`,
      },
    ]
  }
  const v = new WorkflowChecks(doc, actions)
  // plugin trigger types are checked against their own fields (core/trigger-types.ts)
  v.issues.push(...ajvIssues(triggerTypesOf(actions).structural(doc, validateStructure(doc)), doc))
  v.run()
  v.issues.push(...triggerIssues(doc))
  return v.issues
}

function describeType(value: unknown): string {
  if (value === null) return 'nothing (null)'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} \`${show(value)}\``
}

class WorkflowChecks {
  readonly issues: WorkflowIssue[] = []
  readonly #doc: Record<string, unknown>
  readonly #actions: ActionRegistry
  readonly #steps: Array<Record<string, unknown> | undefined>

  constructor(doc: Record<string, unknown>, actions: ActionRegistry) {
    this.#doc = doc
    this.#actions = actions
    const steps = Array.isArray(doc.steps) ? doc.steps : []
    this.#steps = steps.map((s: unknown) => (isPlainObject(s) ? s : undefined))
  }

  #add(
    pointer: string,
    message: string,
    code: WorkflowIssueCode = 'HS_ERR_WORKFLOW_INVALID',
    extra: Partial<WorkflowIssue> = {},
  ): void {
    this.issues.push({ pointer, code, message, ...extra })
  }

  run(): void {
    if (typeof this.#doc.id === 'string' && RESERVED_WORKFLOW_IDS.has(this.#doc.id))
      this.#add(
        '/id',
        `workflow id \`${this.#doc.id}\` is reserved: \`/api/workflows/${this.#doc.id}\` is the API's action catalogue; choose another id`,
      )
    this.#inputs()
    this.#templates('/variables')
    this.#templates('/output')
    this.#settings()
    this.#triggers()
    if (this.#steps.length > MAX_STEPS) return
    const ids = this.#stepIds()
    this.#steps.forEach((step, i) => {
      if (step) this.#step(step, i, ids)
    })
    this.#cycles(ids)
  }

  #label(i: number): string {
    const id = this.#steps[i]?.id
    return typeof id === 'string' ? `step \`${id}\`` : `step ${i + 1}`
  }

  /** Step id → index of its first occurrence; later duplicates are reported. */
  #stepIds(): Map<string, number> {
    const ids = new Map<string, number>()
    this.#steps.forEach((step, i) => {
      const id = step?.id
      if (typeof id !== 'string') return
      const first = ids.get(id)
      if (first === undefined) ids.set(id, i)
      else
        this.#add(
          join('/steps', i, 'id'),
          `duplicate step id \`${id}\`: step ${i + 1} has the same id as step ${first + 1}; step ids must be unique`,
        )
    })
    return ids
  }

  #step(step: Record<string, unknown>, i: number, ids: Map<string, number>): void {
    const at = join('/steps', i)
    const label = this.#label(i)
    this.#needs(step, at, label, ids)
    this.#expression(step.if, join(at, 'if'), `${label}: \`if\``)
    this.#expression(step.foreach, join(at, 'foreach'), `${label}: \`foreach\``)
    if (step.concurrency !== undefined && step.foreach === undefined) {
      this.#add(
        join(at, 'concurrency'),
        `${label}: \`concurrency\` sets how many \`foreach\` iterations run at once, but the step has no \`foreach\``,
        'HS_ERR_WORKFLOW_INVALID',
        { at: 'key' },
      )
    }
    this.#duration(step.timeout, join(at, 'timeout'), `${label}: \`timeout\``)
    this.#retry(step.retry, join(at, 'retry'), `${label}: \`retry`)
    this.#action(step, at, label)
  }

  #needs(step: Record<string, unknown>, at: string, label: string, ids: Map<string, number>): void {
    if (!Array.isArray(step.needs)) return
    const seen = new Set<string>()
    step.needs.forEach((need: unknown, j: number) => {
      const needAt = join(at, 'needs', j)
      const ref =
        typeof need === 'string'
          ? need
          : isPlainObject(need) && typeof need.step === 'string'
            ? need.step
            : undefined
      if (ref === undefined) return
      const refAt = typeof need === 'string' ? needAt : join(needAt, 'step')
      if (ref === step.id) this.#add(refAt, `${label} needs itself; remove \`${ref}\` from its \`needs\``)
      else if (!ids.has(ref)) {
        const hint = didYouMean(ref, ids.keys())
        this.#add(refAt, `${label} needs \`${ref}\`, which is not a step of this workflow${hint}`)
      } else if (seen.has(ref)) this.#add(refAt, `${label} lists \`${ref}\` more than once in \`needs\``)
      seen.add(ref)
      if (
        isPlainObject(need) &&
        typeof need.when === 'string' &&
        !(EDGE_WHEN as readonly string[]).includes(need.when)
      ) {
        this.#expression(need.when, join(needAt, 'when'), `${label}: \`when\` of the edge from \`${ref}\``)
      }
    })
  }

  /** Reports one cycle per strongly connected group of steps (self-needs are reported apart). */
  #cycles(ids: Map<string, number>): void {
    const n = this.#steps.length
    const next: number[][] = Array.from({ length: n }, () => [])
    const needAt = new Map<string, string>()
    this.#steps.forEach((step, i) => {
      if (!step || ids.get(step.id as string) !== i || !Array.isArray(step.needs)) return
      step.needs.forEach((need: unknown, j: number) => {
        const ref = typeof need === 'string' ? need : isPlainObject(need) ? need.step : undefined
        const from = typeof ref === 'string' ? ids.get(ref) : undefined
        if (from === undefined || from === i) return
        next[from]!.push(i)
        if (!needAt.has(`${i}<${from}`)) needAt.set(`${i}<${from}`, join('/steps', i, 'needs', j))
      })
    })
    for (const group of stronglyConnected(next)) {
      if (group.length < 2) continue
      const start = Math.min(...group)
      const cycle = shortestCycle(start, next, new Set(group))
      const names = cycle.map((k) => show(this.#steps[k]!.id))
      const last = cycle[cycle.length - 1]!
      this.#add(
        needAt.get(`${start}<${last}`) ?? join('/steps', start),
        `steps form a cycle: ${[...names, names[0]].join(' → ')} (each step needs the one before it); remove one of these \`needs\``,
      )
    }
  }

  #action(step: Record<string, unknown>, at: string, label: string): void {
    const uses = step.uses
    if (typeof uses !== 'string' || uses === '') return
    const action = this.#actions.get(uses)
    if (!action) {
      const known = this.#actions.list().map((a) => a.type)
      const hint = didYouMean(uses, known)
      const list =
        known.length <= 12 ? ` Registered actions: ${known.join(', ')}` : ' `homeostat actions` lists them.'
      this.#add(
        join(at, 'uses'),
        `${label} uses unknown action \`${uses}\`${hint === '' ? '.' : hint}${list}`,
        'HS_ERR_ACTION_UNKNOWN',
      )
      return
    }
    const params = step.with === undefined ? {} : step.with
    if (!isPlainObject(params)) return
    this.#templates(join(at, 'with'), label)
    const validate = paramValidator(this.#actions, action)
    if (validate instanceof Error) {
      this.#add(
        join(at, 'uses'),
        `action \`${uses}\` has an invalid parameter schema (${validate.message}); this is a bug in the action`,
        'HS_ERR_ACTION_PARAMS',
      )
      return
    }
    if (validate(params)) return
    const dynamic = (e: ErrorObject): boolean => {
      const value = get(params, e.instancePath)
      return typeof value === 'string' && isTemplateString(value)
    }
    const errors = (validate.errors ?? []).filter((e) => !dynamic(e))
    const withAt = step.with === undefined ? at : join(at, 'with')
    for (const issue of ajvIssues(errors, params, { label, action: uses })) {
      const pointer = withAt + issue.pointer
      const missingWith = step.with === undefined && issue.pointer === ''
      this.issues.push({
        ...issue,
        pointer,
        code: 'HS_ERR_ACTION_PARAMS',
        at: missingWith ? 'value' : issue.at,
      })
    }
  }

  #expression(value: unknown, pointer: string, what: string): void {
    if (typeof value !== 'string' || value === '') return
    try {
      const secret = compileExpression(value).uses.find((u) => u.name === 'secrets')
      if (secret)
        this.#add(pointer, `${what} reads \`secrets\`: ${SECRETS_ONLY_IN_WITH}`, 'HS_ERR_WORKFLOW_INVALID', {
          offset: secret.offset,
        })
    } catch (err) {
      const e = err as { code?: unknown; summary?: unknown; message?: unknown; offset?: unknown }
      const code: WorkflowIssueCode =
        e.code === 'HS_ERR_EXPR_LIMIT' ? 'HS_ERR_EXPR_LIMIT' : 'HS_ERR_EXPR_PARSE'
      const summary = typeof e.summary === 'string' ? e.summary : String(e.message)
      const verb = code === 'HS_ERR_EXPR_LIMIT' ? 'is over a limit' : 'is not a valid CEL expression'
      const extra: Partial<WorkflowIssue> = typeof e.offset === 'number' ? { offset: e.offset } : {}
      this.#add(pointer, `${what} ${verb}: ${summary}`, code, extra)
    }
  }

  /** `{{ }}` templates anywhere inside the value at `base`; `label` names the step, if any. */
  #templates(base: string, label = ''): void {
    const value = get(this.#doc, base)
    if (value === undefined) return
    const prefix = label === '' ? base : base.replace(/^\/steps\/\d+/, '')
    for (const p of templateProblems(value)) {
      const pointer = base + p.pointer
      const code: WorkflowIssueCode =
        p.code === 'HS_ERR_EXPR_LIMIT' ? 'HS_ERR_EXPR_LIMIT' : 'HS_ERR_EXPR_PARSE'
      const extra: Partial<WorkflowIssue> = {}
      const text = get(this.#doc, pointer)
      if (p.offset !== undefined && typeof text === 'string') {
        const start = p.expression === undefined ? -1 : text.indexOf(p.expression)
        extra.offset = (start < 0 ? 0 : start) + p.offset
      }
      const path = `\`${dotted(prefix + p.pointer)}\``
      const where = label === '' ? path : `${label}: ${path}`
      const verb = code === 'HS_ERR_EXPR_LIMIT' ? 'is over a limit' : 'does not parse'
      this.#add(pointer, `${where}: template ${verb}: ${p.message}`, code, extra)
    }
    for (const use of templateUses(value)) {
      if (use.name !== 'secrets') continue
      const path = `\`${dotted(prefix + use.pointer)}\``
      const where = label === '' ? path : `${label}: ${path}`
      const bad = use.members.filter((m) => !SECRET_NAME.test(m))
      const message =
        label === ''
          ? `${where} reads \`secrets\`: ${SECRETS_ONLY_IN_WITH}`
          : use.whole
            ? `${where}: reference one secret by its name, as {{ secrets.NAME }}; the whole \`secrets\` map or a computed name is not allowed`
            : bad.length > 0
              ? `${where}: \`${bad[0]}\` is not a secret name (letters, digits and _, not starting with a digit)`
              : undefined
      if (message) this.#add(base + use.pointer, message, 'HS_ERR_WORKFLOW_INVALID', { offset: use.offset })
    }
  }

  #duration(value: unknown, pointer: string, what: string): void {
    if (value === undefined) return
    const checkable = typeof value === 'string' || (typeof value === 'number' && value >= 0)
    if (!checkable || parseDuration(value) !== undefined) return
    this.#add(
      pointer,
      `${what} is not a duration: \`${show(value)}\` (write e.g. 250ms, 30s, 5m, 1h30m, 1d, or a number of milliseconds)`,
    )
  }

  #retry(value: unknown, pointer: string, what: string): void {
    if (!isPlainObject(value)) return
    this.#duration(value.delay, join(pointer, 'delay'), `${what}.delay\``)
    this.#duration(value.max_delay, join(pointer, 'max_delay'), `${what}.max_delay\``)
  }

  #settings(): void {
    const s = this.#doc.settings
    if (!isPlainObject(s)) return
    this.#duration(s.timeout, '/settings/timeout', '`settings.timeout`')
    this.#retry(s.retry, '/settings/retry', '`settings.retry')
  }

  #triggers(): void {
    const triggers = this.#doc.triggers
    if (!Array.isArray(triggers)) return
    triggers.forEach((t: unknown, i: number) => {
      if (!isPlainObject(t)) return
      const at = join('/triggers', i)
      const label = `trigger ${i + 1}${typeof t.type === 'string' ? ` (\`${t.type}\`)` : ''}`
      if (typeof t.filter === 'string') this.#expression(t.filter, join(at, 'filter'), `${label}: \`filter\``)
      this.#duration(t.debounce, join(at, 'debounce'), `${label}: \`debounce\``)
      if (t.type === 'schedule' && typeof t.cron === 'string') {
        const fields = t.cron.trim().split(/\s+/)
        if (!CRON_MACROS.has(t.cron.trim()) && (fields.length < 5 || fields.length > 6)) {
          this.#add(
            join(at, 'cron'),
            `${label}: \`cron\` \`${t.cron}\` has ${fields.length} field(s); write 5 (minute hour day month weekday), 6 (with seconds first), or @daily, @hourly, ...`,
          )
        }
      }
      if (typeof t.timezone === 'string' && !isTimeZone(t.timezone)) {
        this.#add(
          join(at, 'timezone'),
          `${label}: unknown time zone \`${t.timezone}\` (use an IANA name such as UTC or Europe/Paris)`,
        )
      }
    })
  }

  #inputs(): void {
    const inputs = this.#doc.inputs
    if (!isPlainObject(inputs)) return
    inputAjv ??= newAjv({ strict: false })
    const ajv = inputAjv
    for (const [name, schema] of Object.entries(inputs)) {
      if (!isPlainObject(schema)) continue
      const at = join('/inputs', name)
      if (!ajv.validateSchema(schema)) {
        const errors = (ajv.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if')
        const deepest = errors.reduce<ErrorObject | undefined>(
          (a, e) => (!a || e.instancePath.length > a.instancePath.length ? e : a),
          undefined,
        )
        if (deepest) {
          const hint =
            deepest.instancePath.endsWith('/type') && typeof get(schema, deepest.instancePath) === 'string'
              ? didYouMean(show(get(schema, deepest.instancePath)), [
                  'string',
                  'number',
                  'integer',
                  'boolean',
                  'object',
                  'array',
                  'null',
                ])
              : ''
          this.#add(
            at + deepest.instancePath,
            `input \`${name}\` is not a valid JSON Schema: \`${dotted(deepest.instancePath) || name}\` ${deepest.message ?? 'is invalid'}${hint}`,
          )
        }
        continue
      }
      try {
        const validate = ajv.compile(schema)
        if (Object.hasOwn(schema, 'default') && !validate(schema.default)) {
          const e = validate.errors?.[0]
          this.#add(
            join(at, 'default'),
            `input \`${name}\`: \`default\` does not match its own schema (${dotted(e?.instancePath ?? '') || 'value'} ${e?.message ?? 'is invalid'})`,
          )
        }
      } catch (err) {
        this.#add(
          at,
          `input \`${name}\` is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`,
        )
      } finally {
        ajv.removeSchema(schema)
      }
    }
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
