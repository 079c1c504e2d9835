import { isPlainObject, join, parent, setOwn } from './json-pointer.ts'
import { didYouMean, unknownKey } from './suggest.ts'
import type { WorkflowIssue } from './workflow-issue.ts'
import { RETRY_KEYS, SETTINGS_KEYS, STEP_KEYS, WORKFLOW_KEYS, triggerKeys } from './workflow-schema.ts'

/**
 * Long form → canonical form. The source documents describe workflows with `action: {type,
 * parameters}`, `connections`, `retryPolicy`, trigger `config` blocks and variable lists; this turns
 * any of that into the canonical shape of `workflow.ts` and remembers where every canonical value was
 * written (`Origins`), so later checks can report positions in the user's file. Canonical documents
 * pass through unchanged apart from a few shorthands (see docs/workflow-format.md). Anything it does
 * not understand is left in place for the schema check to report.
 */

/** Canonical pointer → pointer into the document as written. */
export class Origins {
  readonly #map = new Map<string, string>()

  set(canonical: string, written: string): void {
    this.#map.set(canonical, written)
  }

  /** Written pointer of a canonical one: the longest mapped prefix, with the rest appended. */
  resolve(pointer: string): string {
    let prefix = pointer
    for (;;) {
      const hit = this.#map.get(prefix)
      if (hit !== undefined) return hit + pointer.slice(prefix.length)
      if (prefix === '') return pointer
      prefix = parent(prefix)
    }
  }
}

export interface Normalised {
  /** The canonical document (still unvalidated); the input itself when it is not a mapping. */
  doc: unknown
  origins: Origins
  /** Problems only the normaliser can see; pointers address the written document. */
  issues: WorkflowIssue[]
  /** True when the document used any long-form construct. */
  longForm: boolean
}

/** `Read Changed File` → `read_changed_file`: lowercase ASCII letters and digits joined by `_`. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

/** `{{ expr }}` written where a bare CEL expression is expected → `expr`; anything else unchanged. */
export function stripWholeTemplate(value: unknown): unknown {
  if (typeof value !== 'string') return value
  const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(value)
  if (!m || m[1]!.includes('{{') || m[1]!.includes('}}')) return value
  return m[1]!.trim()
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

const BACKOFF_ALIASES: Record<string, string> = { constant: 'fixed', fixed: 'fixed', linear: 'linear', exponential: 'exponential' }

function isLongForm(raw: Record<string, unknown>): boolean {
  if (LONG_TOP_KEYS.some((k) => Object.hasOwn(raw, k))) return true
  if (Array.isArray(raw.variables)) return true
  if (Array.isArray(raw.triggers) && raw.triggers.some((t) => isPlainObject(t) && Object.hasOwn(t, 'config'))) return true
  if (!Array.isArray(raw.steps)) return false
  return raw.steps.some((s) => isPlainObject(s) && (LONG_STEP_KEYS.some((k) => Object.hasOwn(s, k)) || !Object.hasOwn(s, 'id')))
}

/** Returns a copy of `obj` with `keys` first, in that order, then any other keys as written. */
export function ordered(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of keys) if (Object.hasOwn(obj, k) && obj[k] !== undefined) setOwn(out, k, obj[k])
  for (const k of Object.keys(obj)) if (!Object.hasOwn(out, k) && obj[k] !== undefined) setOwn(out, k, obj[k])
  return out
}

export function normaliseWorkflow(raw: unknown): Normalised {
  const origins = new Origins()
  const issues: WorkflowIssue[] = []
  if (!isPlainObject(raw)) return { doc: raw, origins, issues, longForm: false }
  const n = new Normaliser(origins, issues, isLongForm(raw))
  return { doc: n.workflow(raw), origins, issues, longForm: n.longForm }
}

type Need = string | { step: string; when?: string }

class Normaliser {
  readonly origins: Origins
  readonly issues: WorkflowIssue[]
  readonly longForm: boolean

  constructor(origins: Origins, issues: WorkflowIssue[], longForm: boolean) {
    this.origins = origins
    this.issues = issues
    this.longForm = longForm
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
      if (key === 'variables' && Array.isArray(value)) setOwn(out, key, this.#variables(value))
      else if (key === 'settings' && isPlainObject(value)) setOwn(out, key, this.#settings(value))
      else if (key === 'triggers' && Array.isArray(value)) setOwn(out, key, value.map((t, i) => this.#trigger(t, i)))
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
      if (slug === '') this.#issue('/name', `cannot derive a workflow id from name \`${out.name}\`; add an \`id\``)
      else {
        out.id = slug
        this.origins.set('/id', '/name')
      }
    }
    return ordered(out, WORKFLOW_KEYS)
  }

  #variables(list: unknown[]): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    list.forEach((item, i) => {
      const at = join('/variables', i)
      if (!isPlainObject(item) || typeof item.name !== 'string' || item.name === '') {
        this.#issue(at, 'a variable in list form needs `name` and `value` (or `default`), e.g. `- {name: target, value: prod}`')
        return
      }
      for (const key of Object.keys(item)) {
        if (!['name', 'value', 'default', 'type', 'description'].includes(key)) {
          this.#issue(
            join(at, key),
            unknownKey(key, `variable \`${item.name}\``, ['name', 'value', 'default', 'type', 'description']),
            'key',
          )
        }
      }
      if (Object.hasOwn(out, item.name)) {
        this.#issue(join(at, 'name'), `duplicate variable \`${item.name}\``)
        return
      }
      const from = Object.hasOwn(item, 'value') ? 'value' : Object.hasOwn(item, 'default') ? 'default' : undefined
      setOwn(out, item.name, from === undefined ? null : item[from])
      this.origins.set(join('/variables', item.name), from === undefined ? at : join(at, from))
    })
    return out
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
          this.#issue(join('/settings', key), `settings has both \`${target}\` and \`${key}\`; keep one`, 'key')
          continue
        }
        this.origins.set(join('/settings', target), join('/settings', key))
      }
      setOwn(out, target, key === 'retryPolicy' ? this.#retryPolicy(value, join('/settings', key)) : value)
    }
    return ordered(out, SETTINGS_KEYS)
  }

  /** Long-form `retryPolicy` → canonical `retry`; unknown keys are kept for the schema to report. */
  #retryPolicy(raw: unknown, at: string): unknown {
    if (!isPlainObject(raw)) return raw
    const aliases: Record<string, string> = {
      maxAttempts: 'attempts',
      initialDelay: 'delay',
      maxDelay: 'max_delay',
      backoffStrategy: 'backoff',
      strategy: 'backoff',
    }
    const out: Record<string, unknown> = {}
    const canonicalAt = at.endsWith('/retryPolicy') ? at.slice(0, -'retryPolicy'.length) + 'retry' : at
    for (const [key, value] of Object.entries(raw)) {
      let target = aliases[key] ?? key
      let v = value
      if (key === 'maxRetries' && typeof value === 'number') {
        target = 'attempts'
        v = value + 1
      }
      if (target === 'backoff' && typeof v === 'string') v = BACKOFF_ALIASES[v] ?? v
      if (Object.hasOwn(out, target)) {
        this.#issue(join(at, key), `retry policy sets \`${target}\` twice (\`${key}\`); keep one`, 'key')
        continue
      }
      setOwn(out, target, v)
      if (target !== key) this.origins.set(join(canonicalAt, target), join(at, key))
    }
    return ordered(out, RETRY_KEYS)
  }

  #trigger(raw: unknown, i: number): unknown {
    if (!isPlainObject(raw)) return raw
    const at = join('/triggers', i)
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(raw)) if (key !== 'config') setOwn(out, key, value)
    const config = raw.config
    if (config !== undefined && !isPlainObject(config)) this.#issue(join(at, 'config'), 'trigger `config` must be a mapping')
    if (isPlainObject(config)) {
      for (const [key, value] of Object.entries(config)) {
        if (Object.hasOwn(out, key)) {
          this.#issue(join(at, 'config', key), `trigger sets \`${key}\` both in \`config\` and directly; keep one`, 'key')
          continue
        }
        setOwn(out, key, value)
        this.origins.set(join(at, key), join(at, 'config', key))
      }
    }
    if (out.type === 'file_change') this.#fileChangePaths(out, at)
    return ordered(out, triggerKeys(typeof out.type === 'string' ? out.type : ''))
  }

  /** file_change: `path`/`pattern` (long form) or a single string → `paths: [...]`. */
  #fileChangePaths(t: Record<string, unknown>, at: string): void {
    const pick = t.pattern !== undefined ? 'pattern' : t.path !== undefined ? 'path' : undefined
    if (pick !== undefined && t.paths === undefined) {
      const written = this.origins.resolve(join(at, pick))
      t.paths = Array.isArray(t[pick]) ? t[pick] : [t[pick]]
      this.origins.set(join(at, 'paths'), written)
      if (!Array.isArray(t[pick])) this.origins.set(join(at, 'paths', 0), written)
      delete t.pattern
      delete t.path
    } else if (typeof t.paths === 'string') {
      t.paths = [t.paths]
      this.origins.set(join(at, 'paths', 0), this.origins.resolve(join(at, 'paths')))
    }
  }

  #steps(list: unknown[]): unknown[] {
    const ids = list.map((s, i) => this.#stepId(s, i))
    this.#labels = ids.map((id, i) => (id === undefined ? `step ${i + 1}` : `step \`${id}\``))
    const steps = list.map((s, i) => this.#step(s, i, ids[i]))
    const needs = steps.map((s) => (isPlainObject(s) && Array.isArray(s.needs) ? ([...s.needs] as Need[]) : undefined))
    const anyConnections = list.some((s) => isPlainObject(s) && s.connections !== undefined)
    if (anyConnections) this.#connections(list, ids, needs)
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
            const why = typeof value === 'string' && hint[value] ? `; ${hint[value]}` : '; the only step type is `action`'
            this.#issue(join(at, key), `type \`${String(value)}\` is not supported${why}`)
          }
          break
        case 'action':
          if (Object.hasOwn(raw, 'uses')) this.#issue(join(at, key), 'has both `uses` and `action`; keep one', 'key')
          else this.#action(value, at, out, withParts)
          break
        case 'config':
          if (isPlainObject(value)) withParts.unshift([value, join(at, 'config')])
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
          if (Object.hasOwn(raw, 'retry')) this.#issue(join(at, key), 'has both `retry` and `retryPolicy`; keep one', 'key')
          else {
            out.retry = this.#retryPolicy(value, join(at, key))
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
      const merged: Record<string, unknown> = {}
      for (const [part, from] of withParts) {
        for (const [k, v] of Object.entries(part)) {
          setOwn(merged, k, v)
          this.origins.set(join(at, 'with', k), join(from, k))
        }
      }
      const only = withParts.length === 1 ? withParts[0]! : undefined
      if (only) this.origins.set(join(at, 'with'), only[1])
      else this.origins.set(join(at, 'with'), withParts[withParts.length - 1]![1])
      out.with = merged
    }
    if (out.id === undefined && id !== undefined) {
      out.id = id
      this.origins.set(join(at, 'id'), join(at, 'name'))
    }
    return out
  }

  #action(value: unknown, at: string, out: Record<string, unknown>, withParts: Array<[Record<string, unknown>, string]>): void {
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
    if (value.type === undefined) this.#issue(actionAt, '`action` has no `type` (the action to run, e.g. `data.set`)')
    else {
      out.uses = value.type
      this.origins.set(join(at, 'uses'), join(actionAt, 'type'))
    }
    const params = value.parameters
    if (params === undefined) return
    if (isPlainObject(params)) withParts.push([params, join(actionAt, 'parameters')])
    else this.#issue(join(actionAt, 'parameters'), '`action.parameters` must be a mapping')
  }

  #rename(raw: Record<string, unknown>, out: Record<string, unknown>, at: string, from: string, to: string): void {
    if (Object.hasOwn(raw, to)) {
      this.#issue(join(at, from), `has both \`${to}\` and \`${from}\`; keep \`${to}\``, 'key')
      return
    }
    setOwn(out, to, raw[from])
    this.origins.set(join(at, to), join(at, from))
  }

  #errorHandling(raw: Record<string, unknown>, value: unknown, at: string, out: Record<string, unknown>): void {
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

  /** Long-form `connections` → `needs` of the steps they point to. */
  #connections(list: unknown[], ids: Array<string | undefined>, needs: Array<Need[] | undefined>): void {
    const index = new Map<string, number>()
    ids.forEach((id, i) => {
      if (id !== undefined && !index.has(id)) index.set(id, i)
    })
    const resolve = (ref: unknown): number | undefined => {
      if (typeof ref !== 'string') return undefined
      return index.get(ref) ?? index.get(slugify(ref))
    }
    const known = [...index.keys()]
    const add = (target: number, need: Need, written: string, whenAt?: string): void => {
      const list = (needs[target] ??= [])
      const stepOf = (n: Need): string => (typeof n === 'string' ? n : n.step)
      const name = stepOf(need)
      const existing = list.findIndex((n) => stepOf(n) === name)
      const k = existing >= 0 ? existing : list.length
      if (existing >= 0) {
        if (typeof need === 'string') return
        list[existing] = need
      } else list.push(need)
      this.origins.set(join('/steps', target, 'needs', k), written)
      if (whenAt !== undefined) this.origins.set(join('/steps', target, 'needs', k, 'when'), whenAt)
    }

    list.forEach((raw, i) => {
      if (!isPlainObject(raw) || raw.connections === undefined) return
      const at = join('/steps', i, 'connections')
      const c = raw.connections
      if (!isPlainObject(c)) {
        this.#issue(at, '`connections` must be a mapping `{inputs: [step ids], outputs: [{targetStepId, condition}]}`')
        return
      }
      for (const key of Object.keys(c)) {
        if (key !== 'inputs' && key !== 'outputs') {
          this.#issue(join(at, key), unknownKey(key, '`connections`', ['inputs', 'outputs']), 'key')
        }
      }
      if (c.inputs !== undefined) {
        if (!Array.isArray(c.inputs)) this.#issue(join(at, 'inputs'), '`connections.inputs` must be a list of step ids')
        else {
          c.inputs.forEach((ref: unknown, j: number) => {
            const from = resolve(ref)
            const refAt = join(at, 'inputs', j)
            if (from === undefined || ids[from] === undefined) {
              this.#issue(refAt, `connection input \`${String(ref)}\` is not a step of this workflow${typeof ref === 'string' ? didYouMean(ref, known) : ''}`)
            } else if (ids[i] !== undefined) add(i, ids[from], refAt)
          })
        }
      }
      if (c.outputs !== undefined) {
        if (!Array.isArray(c.outputs)) {
          this.#issue(join(at, 'outputs'), '`connections.outputs` must be a list of `{targetStepId, condition}`')
          return
        }
        c.outputs.forEach((out: unknown, j: number) => this.#output(out, join(at, 'outputs', j), i, ids, resolve, known, add))
      }
    })
  }

  #output(
    out: unknown,
    at: string,
    i: number,
    ids: Array<string | undefined>,
    resolve: (ref: unknown) => number | undefined,
    known: string[],
    add: (target: number, need: Need, written: string, whenAt?: string) => void,
  ): void {
    if (!isPlainObject(out)) {
      this.#issue(at, 'a connection output must be a mapping `{targetStepId, condition}`')
      return
    }
    for (const key of Object.keys(out)) {
      if (!['targetStepId', 'condition', 'label'].includes(key)) {
        this.#issue(join(at, key), unknownKey(key, 'connection output', ['targetStepId', 'condition', 'label']), 'key')
      }
    }
    const targetAt = join(at, 'targetStepId')
    if (out.targetStepId === undefined) {
      this.#issue(at, 'connection output has no `targetStepId`')
      return
    }
    const target = resolve(out.targetStepId)
    if (target === undefined) {
      const ref = out.targetStepId
      this.#issue(targetAt, `connection target \`${String(ref)}\` is not a step of this workflow${typeof ref === 'string' ? didYouMean(ref, known) : ''}`)
      return
    }
    const when = this.#condition(out.condition, join(at, 'condition'))
    const from = ids[i]
    if (when === null || from === undefined) return
    if (when.value === 'success') add(target, from, at)
    else add(target, { step: from, when: when.value }, at, when.at)
  }

  /** A long-form condition → a `when` value, with where it was written; null when unreadable. */
  #condition(c: unknown, at: string): { value: string; at: string } | null {
    if (c === undefined || c === null) return { value: 'success', at }
    if (typeof c === 'string') return { value: String(stripWholeTemplate(c)), at }
    if (!isPlainObject(c)) {
      this.#issue(at, 'a connection condition must be `{type: success | failure | always | expression, expression}`')
      return null
    }
    for (const key of Object.keys(c)) {
      if (key !== 'type' && key !== 'expression') {
        this.#issue(join(at, key), unknownKey(key, 'connection condition', ['type', 'expression']), 'key')
      }
    }
    const type = c.type ?? (c.expression !== undefined ? 'expression' : undefined)
    if (type === 'success' || type === 'failure' || type === 'always') return { value: type, at: join(at, 'type') }
    if (type === 'expression') {
      if (typeof c.expression !== 'string' || c.expression.trim() === '') {
        this.#issue(at, 'a condition of type `expression` needs an `expression` (CEL)')
        return null
      }
      return { value: String(stripWholeTemplate(c.expression)), at: join(at, 'expression') }
    }
    this.#issue(
      join(at, 'type'),
      `unknown condition type \`${String(type)}\`${typeof type === 'string' ? didYouMean(type, ['success', 'failure', 'always', 'expression']) : ''} (use success, failure, always or expression)`,
    )
    return null
  }
}
