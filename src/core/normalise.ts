import { isPlainObject, join, ordered, setOwn } from './json-pointer.ts'
import { readConnections, type Need } from './long-form-connections.ts'
import { readRetryPolicy, readTrigger, readVariables } from './long-form-fields.ts'
import { Origins, type LongFormContext } from './origins.ts'
import { slugify, stripWholeTemplate } from './slug.ts'
import { show, unknownKey } from './suggest.ts'
import type { WorkflowIssue } from './workflow-issue.ts'
import { SETTINGS_KEYS, STEP_KEYS, WORKFLOW_KEYS } from './workflow-schema.ts'

/**
 * Long form → canonical form. The source documents describe workflows with `action: {type,
 * parameters}`, `connections`, `retryPolicy`, trigger `config` blocks and variable lists; this turns
 * any of that into the canonical shape of `workflow.ts` and remembers where every canonical value was
 * written (`Origins`), so later checks can report positions in the user's file. Canonical documents
 * pass through unchanged apart from a few shorthands (see docs/workflow-format.md). Anything it does
 * not understand is left in place for the schema check to report.
 */

export interface Normalised {
  /** The canonical document (still unvalidated); the input itself when it is not a mapping. */
  doc: unknown
  origins: Origins
  /** Problems only the normaliser can see; pointers address the written document. */
  issues: WorkflowIssue[]
  /** True when the document used any long-form construct. */
  longForm: boolean
}

const LONG_STEP_KEYS = ['type', 'action', 'position', 'connections', 'config', 'retryPolicy', 'errorHandling']
const LONG_TOP_KEYS = ['metadata', 'created', 'updated', 'author']
/** Long-form top-level fields that describe runtime state, not the definition: dropped. */
const DROPPED_TOP_KEYS = new Set(['created', 'updated', 'author', 'metadata'])

const ERROR_HANDLING: Record<string, 'fail' | 'continue'> = {
  fail: 'fail',
  stop: 'fail',
  abort: 'fail',
  halt: 'fail',
  continue: 'continue',
  ignore: 'continue',
  skip: 'continue',
}

function isLongForm(raw: Record<string, unknown>): boolean {
  if (LONG_TOP_KEYS.some((k) => Object.hasOwn(raw, k))) return true
  if (Array.isArray(raw.variables)) return true
  if (Array.isArray(raw.triggers) && raw.triggers.some((t) => isPlainObject(t) && Object.hasOwn(t, 'config')))
    return true
  if (!Array.isArray(raw.steps)) return false
  return raw.steps.some(
    (s) => isPlainObject(s) && (LONG_STEP_KEYS.some((k) => Object.hasOwn(s, k)) || !Object.hasOwn(s, 'id')),
  )
}

export function normaliseWorkflow(raw: unknown): Normalised {
  const origins = new Origins()
  const issues: WorkflowIssue[] = []
  if (!isPlainObject(raw)) return { doc: raw, origins, issues, longForm: false }
  const n = new Normaliser(origins, issues, isLongForm(raw))
  return { doc: n.workflow(raw), origins, issues, longForm: n.longForm }
}

class Normaliser {
  readonly origins: Origins
  readonly issues: WorkflowIssue[]
  readonly longForm: boolean
  readonly #context: LongFormContext

  constructor(origins: Origins, issues: WorkflowIssue[], longForm: boolean) {
    this.origins = origins
    this.issues = issues
    this.longForm = longForm
    this.#context = { origins, issue: (pointer, message, at) => this.#issue(pointer, message, at) }
  }

  /** Step labels by index (`step \`read_file\``, or `step 3` when the id is unknown), for messages. */
  #labels: string[] = []

  #issue(pointer: string, message: string, at: 'key' | 'value' = 'value'): void {
    const step = /^\/steps\/(\d+)(?:\/|$)/.exec(pointer)
    const label = step ? (this.#labels[Number(step[1])] ?? `step ${Number(step[1]) + 1}`) : undefined
    const text = label === undefined ? message : `${label}: ${message}`
    this.issues.push({ pointer, code: 'HS_ERR_WORKFLOW_INVALID', message: text, at, written: true })
  }

  workflow(raw: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(raw)) {
      if (DROPPED_TOP_KEYS.has(key)) continue
      if (key === 'version' && this.longForm && !Number.isInteger(value)) continue
      if (key === 'variables' && Array.isArray(value)) setOwn(out, key, readVariables(value, this.#context))
      else if (key === 'settings' && isPlainObject(value)) setOwn(out, key, this.#settings(value))
      else if (key === 'triggers' && Array.isArray(value))
        setOwn(
          out,
          key,
          value.map((t, i) => readTrigger(t, i, this.#context)),
        )
      else if (key === 'steps' && Array.isArray(value)) setOwn(out, key, this.#steps(value))
      else setOwn(out, key, value)
    }
    const metadata = raw.metadata
    if (isPlainObject(metadata) && metadata.tags !== undefined && out.tags === undefined) {
      out.tags = metadata.tags
      this.origins.set('/tags', '/metadata/tags')
    }
    if (out.id === undefined && typeof out.name === 'string') {
      const slug = slugify(out.name)
      if (slug === '')
        this.#issue('/name', `cannot derive a workflow id from name \`${out.name}\`; add an \`id\``)
      else {
        out.id = slug
        this.origins.set('/id', '/name')
      }
    }
    return ordered(out, WORKFLOW_KEYS)
  }

  #settings(raw: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const aliases: Record<string, string> = {
      maxConcurrency: 'concurrency',
      maxConcurrentSteps: 'concurrency',
      retryPolicy: 'retry',
    }
    for (const [key, value] of Object.entries(raw)) {
      const target = aliases[key] ?? key
      if (target !== key) {
        if (Object.hasOwn(raw, target)) {
          this.#issue(
            join('/settings', key),
            `settings has both \`${target}\` and \`${key}\`; keep one`,
            'key',
          )
          continue
        }
        this.origins.set(join('/settings', target), join('/settings', key))
      }
      setOwn(
        out,
        target,
        key === 'retryPolicy' ? readRetryPolicy(value, join('/settings', key), this.#context) : value,
      )
    }
    return ordered(out, SETTINGS_KEYS)
  }

  #steps(list: unknown[]): unknown[] {
    const ids = list.map((s, i) => this.#stepId(s, i))
    this.#labels = ids.map((id, i) => (id === undefined ? `step ${i + 1}` : `step \`${id}\``))
    const steps = list.map((s, i) => this.#step(s, i, ids[i]))
    const needs = steps.map((s) =>
      isPlainObject(s) && Array.isArray(s.needs) ? ([...s.needs] as Need[]) : undefined,
    )
    const anyConnections = list.some((s) => isPlainObject(s) && s.connections !== undefined)
    if (anyConnections) readConnections(list, ids, needs, this.#context)
    const anyNeeds = list.some((s) => isPlainObject(s) && s.needs !== undefined)
    if (this.longForm && !anyConnections && !anyNeeds) {
      for (let i = 1; i < list.length; i++) {
        const prev = ids[i - 1]
        if (prev === undefined || !isPlainObject(steps[i])) continue
        needs[i] = [prev]
        this.origins.set(join('/steps', i, 'needs'), join('/steps', i))
      }
    }
    return steps.map((s, i) => {
      if (!isPlainObject(s)) return s
      const n = needs[i]
      if (n !== undefined && n.length > 0) s.needs = n
      else if (n !== undefined) delete s.needs
      return ordered(s, STEP_KEYS)
    })
  }

  /** The id a step will have: its `id`, else the slug of its `name`. */
  #stepId(raw: unknown, i: number): string | undefined {
    if (!isPlainObject(raw)) return undefined
    if (typeof raw.id === 'string') return raw.id
    if (raw.id === undefined && typeof raw.name === 'string') {
      const slug = slugify(raw.name)
      if (slug !== '') return slug
      this.#issue(join('/steps', i, 'name'), `cannot derive an id from name \`${raw.name}\`; add an \`id\``)
    }
    return undefined
  }

  #step(raw: unknown, i: number, id: string | undefined): unknown {
    if (!isPlainObject(raw)) return raw
    const at = join('/steps', i)
    const out: Record<string, unknown> = {}
    const withParts: Array<[Record<string, unknown>, string]> = []
    for (const [key, value] of Object.entries(raw)) {
      switch (key) {
        case 'type':
          if (value !== 'action') {
            const hint: Record<string, string> = {
              condition: 'use `if:` on the step, or `needs: [{step, when}]` on the steps that follow',
              loop: 'use `foreach:` (a CEL list) on the step',
              parallel: 'steps that do not need each other already run in parallel',
              ai_flow: 'use an `ai.*` action in `uses`',
            }
            const why =
              typeof value === 'string' && hint[value]
                ? `; ${hint[value]}`
                : '; the only step type is `action`'
            this.#issue(join(at, key), `type \`${show(value)}\` is not supported${why}`)
          }
          break
        case 'action':
          if (Object.hasOwn(raw, 'uses'))
            this.#issue(join(at, key), 'has both `uses` and `action`; keep one', 'key')
          else this.#action(value, at, out, withParts)
          break
        case 'config':
          if (isPlainObject(value)) withParts.push([value, join(at, 'config')])
          else this.#issue(join(at, key), '`config` must be a mapping of action parameters')
          break
        case 'with':
          if (isPlainObject(value)) withParts.push([value, join(at, 'with')])
          else setOwn(out, 'with', value)
          break
        case 'position':
          this.#rename(raw, out, at, 'position', 'ui')
          break
        case 'retryPolicy':
          if (Object.hasOwn(raw, 'retry'))
            this.#issue(join(at, key), 'has both `retry` and `retryPolicy`; keep one', 'key')
          else {
            out.retry = readRetryPolicy(value, join(at, key), this.#context)
            this.origins.set(join(at, 'retry'), join(at, key))
          }
          break
        case 'errorHandling':
          this.#errorHandling(raw, value, at, out)
          break
        case 'connections':
          break
        case 'needs':
          out.needs = this.#needs(value, join(at, 'needs'))
          break
        case 'if':
        case 'foreach':
          setOwn(out, key, stripWholeTemplate(value))
          break
        default:
          setOwn(out, key, value)
      }
    }
    if (withParts.length > 0) {
      // Later parts win: `config`, then `action.parameters`, then an explicit `with`.
      const rank = (from: string): number =>
        from.endsWith('/config') ? 0 : from.endsWith('/parameters') ? 1 : 2
      withParts.sort((x, y) => rank(x[1]) - rank(y[1]))
      const merged: Record<string, unknown> = {}
      for (const [part, from] of withParts) {
        for (const [k, v] of Object.entries(part)) {
          setOwn(merged, k, v)
          this.origins.set(join(at, 'with', k), join(from, k))
        }
      }
      this.origins.set(join(at, 'with'), withParts[withParts.length - 1]![1])
      out.with = merged
    }
    if (out.id === undefined && id !== undefined) {
      out.id = id
      this.origins.set(join(at, 'id'), join(at, 'name'))
    }
    return out
  }

  #action(
    value: unknown,
    at: string,
    out: Record<string, unknown>,
    withParts: Array<[Record<string, unknown>, string]>,
  ): void {
    const actionAt = join(at, 'action')
    if (typeof value === 'string') {
      out.uses = value
      this.origins.set(join(at, 'uses'), actionAt)
      return
    }
    if (!isPlainObject(value)) {
      this.#issue(actionAt, '`action` must be a mapping `{type, parameters}` or an action type')
      return
    }
    for (const key of Object.keys(value)) {
      if (!['type', 'provider', 'parameters', 'parameterSchema'].includes(key)) {
        this.#issue(
          join(actionAt, key),
          unknownKey(key, '`action`', ['type', 'parameters', 'provider', 'parameterSchema']),
          'key',
        )
      }
    }
    if (value.type === undefined)
      this.#issue(actionAt, '`action` has no `type` (the action to run, e.g. `data.set`)')
    else {
      out.uses = value.type
      this.origins.set(join(at, 'uses'), join(actionAt, 'type'))
    }
    const params = value.parameters
    if (params === undefined) return
    if (isPlainObject(params)) withParts.push([params, join(actionAt, 'parameters')])
    else this.#issue(join(actionAt, 'parameters'), '`action.parameters` must be a mapping')
  }

  #rename(
    raw: Record<string, unknown>,
    out: Record<string, unknown>,
    at: string,
    from: string,
    to: string,
  ): void {
    if (Object.hasOwn(raw, to)) {
      this.#issue(join(at, from), `has both \`${to}\` and \`${from}\`; keep \`${to}\``, 'key')
      return
    }
    setOwn(out, to, raw[from])
    this.origins.set(join(at, to), join(at, from))
  }

  #errorHandling(
    raw: Record<string, unknown>,
    value: unknown,
    at: string,
    out: Record<string, unknown>,
  ): void {
    const from = join(at, 'errorHandling')
    if (Object.hasOwn(raw, 'on_error')) {
      this.#issue(from, 'has both `on_error` and `errorHandling`; keep `on_error`', 'key')
      return
    }
    let mode: string | undefined
    let written = from
    if (typeof value === 'string') mode = value
    else if (isPlainObject(value)) {
      if (typeof value.continueOnError === 'boolean') {
        mode = value.continueOnError ? 'continue' : 'fail'
        written = join(from, 'continueOnError')
      } else {
        const key = ['strategy', 'action', 'onError', 'mode'].find((k) => typeof value[k] === 'string')
        if (key) {
          mode = value[key] as string
          written = join(from, key)
        }
      }
    }
    const mapped = mode === undefined ? undefined : ERROR_HANDLING[mode]
    if (mapped === undefined) {
      this.#issue(
        written,
        `cannot read \`errorHandling\`${mode === undefined ? '' : ` \`${mode}\``}: use \`errorHandling: fail | continue\` (or \`on_error: fail | continue\`)`,
      )
      return
    }
    out.on_error = mapped
    this.origins.set(join(at, 'on_error'), written)
  }

  /** `needs: a` → `[a]`; `{step: a}` and `{step: a, when: success}` → `a`; `when: "{{ e }}"` → `e`. */
  #needs(value: unknown, at: string): unknown {
    if (typeof value === 'string') {
      this.origins.set(join(at, 0), at)
      return [value]
    }
    if (!Array.isArray(value)) return value
    return value.map((item: unknown) => {
      if (!isPlainObject(item)) return item
      const keys = Object.keys(item)
      if (typeof item.step === 'string' && keys.every((k) => k === 'step' || k === 'when')) {
        const when = stripWholeTemplate(item.when)
        if (when === undefined || when === 'success') return item.step
        return { step: item.step, when }
      }
      return item
    })
  }
}
