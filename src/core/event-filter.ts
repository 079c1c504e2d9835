import type { CloudEvent } from './event.ts'
import { EVENT_TYPE_PATTERN } from './event.ts'
import { compileExpression, type ExprContext, type Expression } from './expr/index.ts'
import { isPlainObject } from './json-pointer.ts'
import { show } from './suggest.ts'

/**
 * Event subscriptions, pure: which event types a pattern covers, and trigger filters compiled once
 * into a check the router runs per event. A filter is a map of field equalities
 * (`{severity: CRITICAL}`) or a CEL expression over `data` and the envelope. docs/routing.md
 * states the rules; the router (`mesh/router.ts`) does the indexing.
 */

/** `a.b.c` (exact), `a.*` (every type below `a`, at any depth, not `a` itself) or `*` (every type). */
export interface EventPattern {
  /** As written. */
  readonly text: string
  readonly kind: 'exact' | 'prefix' | 'all'
  /** The type for `exact`; the part before `.*` for `prefix`; '' for `all`. */
  readonly stem: string
}

/** Parses a subscription pattern; a string is the problem when it is not one. */
export function parseEventPattern(text: unknown): EventPattern | string {
  if (typeof text !== 'string' || text === '')
    return `an event pattern must be a non-empty string, got ${show(text)}`
  if (text === '*') return { text, kind: 'all', stem: '' }
  if (text.endsWith('.*')) {
    const stem = text.slice(0, -2)
    if (EVENT_TYPE_PATTERN.test(stem)) return { text, kind: 'prefix', stem }
  } else if (EVENT_TYPE_PATTERN.test(text)) {
    return { text, kind: 'exact', stem: text }
  }
  return `\`${text}\` is not an event pattern: write a type (kpi.threshold_breach), a prefix ending in .* (kpi.*), or *`
}

/** Whether `type` is covered by `pattern` (the router's index answers the same, faster). */
export function patternMatches(pattern: EventPattern, type: string): boolean {
  if (pattern.kind === 'all') return true
  if (pattern.kind === 'exact') return type === pattern.stem
  return type.length > pattern.stem.length + 1 && type.startsWith(pattern.stem + '.')
}

/** What a filter said about one event, for `homeostat explain`. */
export type FilterOutcome =
  | { result: boolean; seen: Record<string, unknown>; detail: string }
  | { error: string; seen: Record<string, unknown>; detail: string }

/** A filter compiled once per (workflow, version, trigger). */
export interface EventFilter {
  readonly kind: 'map' | 'cel'
  /** The filter as written in the trigger. */
  readonly source: unknown
  /** `filter {severity: CRITICAL}` / ``filter `data.score < 50` ``, for messages. */
  readonly label: string
  /** Hot path. Throws (an `ExpressionError`, or an `Error` for a non-boolean result) on filter errors. */
  test(input: FilterInput): boolean
  /** The outcome with the values the filter read. Never throws. */
  explain(input: FilterInput): FilterOutcome
}

/**
 * The event a filter looks at, with the CEL context built at most once per event and only when a CEL
 * filter needs it. The router reuses one instance (`reset` per event) so a map filter allocates nothing.
 */
export class FilterInput {
  event: CloudEvent = { specversion: '1.0', id: '', source: '', type: '' }
  #context: ExprContext | undefined

  reset(event: CloudEvent): this {
    this.event = event
    this.#context = undefined
    return this
  }

  /** `data`, `event` (the envelope), and the shortcuts `source` and `subject` (null when absent). */
  celContext(): ExprContext {
    if (this.#context === undefined) {
      const e = this.event
      this.#context = { data: e.data ?? null, event: e, source: e.source, subject: e.subject ?? null }
    }
    return this.#context
  }
}

/** Compiles a trigger's `filter`; undefined for no filter. Throws an `Error` naming the problem. */
export function compileEventFilter(filter: unknown): EventFilter | undefined {
  if (filter === undefined || filter === null) return undefined
  if (typeof filter === 'string') return new CelFilter(filter)
  if (isPlainObject(filter)) return new MapFilter(filter)
  throw new Error(
    `a filter is a map of field values ({severity: CRITICAL}) or a CEL expression string, got ${show(filter)}`,
  )
}

// ---- map filters ----------------------------------------------------------------------------------

const ABSENT = Symbol('absent')

/** One `key: value` of a map filter, with everything the hot path needs precomputed. */
class Condition {
  /** The key as written (`severity`, `component.id`, `event.source`). */
  readonly key: string
  readonly envelope: boolean
  readonly path: readonly string[]
  /** Per segment: is it `length` (the one own key of a list that is not an item)? */
  readonly length: readonly boolean[]
  /** Primitive values accepted, compared with `===` (no type coercion: "50" is not 50). */
  readonly primitives: ReadonlySet<unknown>
  /** Whether the only accepted value is `single`: one comparison, no Set look-up. */
  readonly hasSingle: boolean
  readonly single: unknown
  /** Object and list values accepted, compared structurally. */
  readonly structured: readonly unknown[]
  /** The expected value as written, for messages. */
  readonly expected: unknown

  constructor(key: string, expected: unknown) {
    this.key = key
    this.envelope = key.startsWith('event.')
    this.path = (this.envelope ? key.slice('event.'.length) : key).split('.')
    if (key === '' || key === 'event' || this.path.some((s) => s === '')) {
      throw new Error(
        `filter key \`${key}\` is not a field path: write a dotted path into data (severity, component.id) or event.<attribute> (event.source)`,
      )
    }
    const options = Array.isArray(expected) ? expected : [expected]
    if (options.length === 0) throw new Error(`filter key \`${key}\` has an empty list: it could never match`)
    const primitives = options.filter((o) => o === null || typeof o !== 'object')
    this.length = this.path.map((segment) => segment === 'length')
    this.primitives = new Set(primitives)
    this.hasSingle = options.length === 1 && primitives.length === 1
    this.single = primitives[0]
    this.structured = options.filter((o) => o !== null && typeof o === 'object')
    this.expected = expected
  }

  /** The value at the path: own properties only, list items by index, ABSENT when there is none. */
  read(event: CloudEvent): unknown {
    let value: unknown = this.envelope ? event : event.data
    const path = this.path
    for (let i = 0; i < path.length; i++) {
      if (value === null || typeof value !== 'object') return ABSENT
      const parent = value as Record<string, unknown>
      const key = path[i]!
      value = parent[key]
      if (value === undefined) return ABSENT
      // A primitive found by key is always an own property; anything else may be inherited
      // (`constructor`, `__proto__`, a list method) and is checked.
      if ((typeof value === 'object' || typeof value === 'function') && !Object.hasOwn(parent, key))
        return ABSENT
      if (this.length[i] === true && Array.isArray(parent)) return ABSENT
    }
    return value
  }

  accepts(value: unknown): boolean {
    if (this.hasSingle) return value === this.single
    if (value === ABSENT) return false
    if (value === null || typeof value !== 'object') return this.primitives.has(value)
    for (const option of this.structured) if (jsonEqual(value, option)) return true
    return false
  }
}

class MapFilter implements EventFilter {
  readonly kind = 'map'
  readonly source: Record<string, unknown>
  readonly label: string
  readonly #conditions: readonly Condition[]

  constructor(filter: Record<string, unknown>) {
    this.source = filter
    this.label = `filter ${inline(filter)}`
    this.#conditions = Object.entries(filter).map(([key, expected]) => new Condition(key, expected))
  }

  test(input: FilterInput): boolean {
    const event = input.event
    const conditions = this.#conditions
    for (let i = 0; i < conditions.length; i++) {
      const c = conditions[i]!
      if (!c.accepts(c.read(event))) return false
    }
    return true
  }

  explain(input: FilterInput): FilterOutcome {
    const seen: Record<string, unknown> = {}
    const failed: string[] = []
    for (const c of this.#conditions) {
      const value = c.read(input.event)
      if (value !== ABSENT) seen[c.key] = value
      if (!c.accepts(value)) {
        const want = Array.isArray(c.expected) ? `one of ${inline(c.expected)}` : inline(c.expected)
        failed.push(`${c.key} is ${value === ABSENT ? 'absent' : inline(value)} (wanted ${want})`)
      }
    }
    const result = failed.length === 0
    const detail = result ? `${this.label} is true` : `${this.label} is false: ${failed.join('; ')}`
    return { result, seen, detail }
  }
}

/** Structural equality of JSON values (own keys, order-insensitive for objects). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bs = b as unknown[]
    return a.length === bs.length && a.every((v, i) => jsonEqual(v, bs[i]))
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const keys = Object.keys(ao)
  if (keys.length !== Object.keys(bo).length) return false
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]))
}

// ---- CEL filters ----------------------------------------------------------------------------------

class CelFilter implements EventFilter {
  readonly kind = 'cel'
  readonly source: string
  readonly label: string
  readonly #expression: Expression
  /** The fields it reads, for `explain`. */
  readonly #reads: readonly string[]

  constructor(source: string) {
    this.#expression = compileExpression(source)
    this.source = source
    this.label = `filter \`${source}\``
    this.#reads = readPaths(source)
  }

  test(input: FilterInput): boolean {
    return toBoolean(this.#expression, this.#expression.evaluate(input.celContext()))
  }

  explain(input: FilterInput): FilterOutcome {
    const ctx = input.celContext()
    const seen: Record<string, unknown> = {}
    const parts: string[] = []
    for (const path of this.#reads) {
      const value = readPath(ctx, path)
      if (value !== ABSENT) seen[path] = value
      parts.push(`${path} = ${value === ABSENT ? '(absent)' : inline(value)}`)
    }
    const saw = parts.length === 0 ? '' : `; it read ${parts.join(', ')}`
    try {
      const result = toBoolean(this.#expression, this.#expression.evaluate(ctx))
      return { result, seen, detail: `${this.label} is ${String(result)}${saw}` }
    } catch (err) {
      const error = (err as Error).message
      return { error, seen, detail: `${this.label} failed: ${error}${saw}` }
    }
  }
}

function toBoolean(expression: Expression, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  throw new Error(
    `filter \`${expression.source}\` must give true or false, got ${inline(value)}; compare it, e.g. \`... == "x"\``,
  )
}

const CEL_STRING = /[rR]?("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g
const CEL_READ =
  /(?<![\w.])(?:(data|event)\b((?:\.\??[A-Za-z_]\w*(?!\w)(?!\s*\())*)|(source|subject)\b(?!\s*\())/g

/**
 * The dotted fields a CEL filter reads (`data.score`, `event.subject`, `source`), found in its source
 * with string literals removed, to show what the filter saw. An approximation: index expressions
 * (`data["a-b"]`) are not listed.
 */
function readPaths(source: string): string[] {
  const code = source.replace(CEL_STRING, '""')
  const found = new Set<string>()
  for (const m of code.matchAll(CEL_READ)) found.add(m[3] ?? `${m[1]}${(m[2] ?? '').replace(/\?/g, '')}`)
  return [...found]
}

function readPath(ctx: ExprContext, dotted: string): unknown {
  let value: unknown = ctx
  for (const key of dotted.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return ABSENT
    value = (value as Record<string, unknown>)[key]
  }
  return value === undefined ? ABSENT : value
}

/** Compact JSON for messages, shortened past 120 characters. */
function inline(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
