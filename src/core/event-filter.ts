import type { CloudEvent } from './event.ts'
import { compileExpression, type ExprContext, type Expression } from './expr/index.ts'
import { isPlainObject } from './json-pointer.ts'
import { show } from './suggest.ts'

/**
 * Trigger filters, pure: compiled once per (workflow, version, trigger) into a check the router runs
 * per event. A filter is a map of field equalities (`{severity: CRITICAL}`) or a CEL expression over
 * `data` and the envelope. docs/routing.md states the rules; `mesh/router.ts` does the indexing.
 */

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
  /** Per segment: can an object inherit this key (so it needs an own-property check)? */
  readonly guard: readonly boolean[]
  /** A single data segment that needs no guard. */
  readonly plain: boolean
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
    this.guard = this.path.map(inheritable)
    this.plain = !this.envelope && this.path.length === 1 && !this.guard[0]!
    this.primitives = new Set(primitives)
    this.hasSingle = options.length === 1 && primitives.length === 1
    this.single = primitives[0]
    this.structured = options.filter((o) => o !== null && typeof o === 'object')
    this.expected = expected
  }

  /** The value at the path: own properties only, list items by index, ABSENT when there is none. */
  read(event: CloudEvent): unknown {
    let value: unknown = this.envelope ? event : event.data
    if (this.plain) {
      // One segment that no object inherits (`severity`): the common case, without loop or guard.
      if (value === null || typeof value !== 'object') return ABSENT
      value = (value as Record<string, unknown>)[this.key]
      return value === undefined ? ABSENT : value
    }
    const path = this.path
    for (let i = 0; i < path.length; i++) {
      if (value === null || typeof value !== 'object') return ABSENT
      const parent = value as Record<string, unknown>
      const key = path[i]!
      value = parent[key]
      if (value === undefined || (this.guard[i] === true && !ownField(parent, key))) return ABSENT
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

/**
 * Whether JSON objects or lists inherit `key` (`constructor`, `__proto__`, `toString`, `length`, list
 * methods): only such keys need the slower own-property check; any other key found is own.
 */
function inheritable(key: string): boolean {
  return key in Object.prototype || key in Array.prototype
}

/** `key` is an own field of a JSON object, or an item index of a list (its `length` is not a field). */
function ownField(parent: object, key: string): boolean {
  return Object.hasOwn(parent, key) && !(key === 'length' && Array.isArray(parent))
}

class MapFilter implements EventFilter {
  readonly kind = 'map'
  readonly source: Record<string, unknown>
  readonly label: string
  readonly #conditions: readonly Condition[]
  /** The first condition, held directly (most filters have one). */
  readonly #first: Condition | undefined

  constructor(filter: Record<string, unknown>) {
    this.source = filter
    this.label = `filter ${inline(filter)}`
    this.#conditions = Object.entries(filter).map(([key, expected]) => new Condition(key, expected))
    this.#first = this.#conditions[0]
  }

  test(input: FilterInput): boolean {
    const event = input.event
    const first = this.#first
    if (first === undefined) return true
    if (!first.accepts(first.read(event))) return false
    const conditions = this.#conditions
    for (let i = 1; i < conditions.length; i++) {
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
  /** The native evaluation of simple comparisons, when the expression is one (see `celShortcut`). */
  readonly #shortcut: Shortcut | undefined
  /** The fields it reads, for `explain`. */
  readonly #reads: readonly string[]

  constructor(source: string) {
    this.#expression = compileExpression(source)
    this.#shortcut = celShortcut(source)
    this.source = source
    this.label = `filter \`${source}\``
    this.#reads = readPaths(source)
  }

  test(input: FilterInput): boolean {
    if (this.#shortcut !== undefined) {
      const quick = this.#shortcut(input.event)
      if (quick !== UNSURE) return quick === 1
    }
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

// ---- CEL shortcut -----------------------------------------------------------------------------------

/** 1 (true), 0 (false), or UNSURE: the data is not what the shortcut handles, so CEL decides. */
type Shortcut = (event: CloudEvent) => number
const UNSURE = -1

const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|("[^"\\\n]*"|'[^'\\\n]*')|([A-Za-z_]\w*)|(==|!=|<=|>=|&&|\|\||[<>().,[\]-]))/y
const FLIP: Readonly<Record<string, string>> = {
  '==': '==',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
}

type Token = { kind: 'number' | 'string' | 'name' | 'op'; text: string }

/**
 * Filters are mostly comparisons of event fields with literals (`data.severity == "CRITICAL" &&
 * data.score < 50`). For those this evaluates natively, at a fraction of the interpreter's cost:
 * `&&`, `||`, parentheses, `== != < <= > >=` between a path (`data.a.b`, `event.x`, `source`,
 * `subject`) and a number, string, boolean or null literal, and `path in [literals]`. It answers only
 * when the answer is certain — the field exists (own keys of plain objects) and has the literal's type;
 * anything else (a missing field, another type, a string ordering) is UNSURE and CEL evaluates the
 * expression, so results and errors are exactly CEL's. Returns undefined for other expressions.
 * Exported for the test that checks it against CEL.
 */
export function celShortcut(source: string): Shortcut | undefined {
  const tokens: Token[] = []
  TOKEN.lastIndex = 0
  while (!/^\s*$/.test(source.slice(TOKEN.lastIndex))) {
    const m = TOKEN.exec(source)
    if (m === null) return undefined
    const kind =
      m[1] !== undefined ? 'number' : m[2] !== undefined ? 'string' : m[3] !== undefined ? 'name' : 'op'
    tokens.push({ kind, text: (m[1] ?? m[2] ?? m[3] ?? m[4])! })
  }
  let at = 0
  const peek = (text: string): boolean => tokens[at]?.text === text && tokens[at]?.kind !== 'string'
  const either = (
    op: string,
    combine: (a: Shortcut, b: Shortcut) => Shortcut,
    next: () => Shortcut | undefined,
  ) => {
    return (): Shortcut | undefined => {
      let left = next()
      while (left !== undefined && peek(op)) {
        at++
        const right = next()
        left = right === undefined ? undefined : combine(left, right)
      }
      return left
    }
  }
  const comparison = (): Shortcut | undefined => {
    if (peek('(')) {
      at++
      const inner = or()
      if (!peek(')')) return undefined
      at++
      return inner
    }
    const path = readPathTokens()
    if (path !== undefined) {
      const op = tokens[at++]?.text
      if (op === 'in') return membership(path)
      const lit = literal()
      return op === undefined || lit === undefined ? undefined : compare(path, op, lit.value)
    }
    const lit = literal()
    const op = tokens[at++]?.text
    const right = readPathTokens()
    return lit === undefined || op === undefined || FLIP[op] === undefined || right === undefined
      ? undefined
      : compare(right, FLIP[op], lit.value)
  }
  const and = either(
    '&&',
    (a, b) => (e) => {
      const l = a(e)
      return l === 1 ? b(e) : l === 0 ? 0 : UNSURE
    },
    comparison,
  )
  const or = either(
    '||',
    (a, b) => (e) => {
      const l = a(e)
      return l === 0 ? b(e) : l === 1 ? 1 : UNSURE
    },
    and,
  )

  const readPathTokens = (): ((e: CloudEvent) => unknown) | undefined => {
    const root = tokens[at]
    if (root?.kind !== 'name' || !['data', 'event', 'source', 'subject'].includes(root.text)) return undefined
    at++
    const keys: string[] = []
    while (peek('.') && tokens[at + 1]?.kind === 'name') {
      keys.push(tokens[at + 1]!.text)
      at += 2
    }
    if (peek('(') || peek('.') || peek('[')) return undefined
    return fieldReader(root.text, keys)
  }
  const literal = (): { value: unknown } | undefined => {
    const negative = peek('-')
    if (negative) at++
    const t = tokens[at++]
    if (t === undefined) return undefined
    if (t.kind === 'number') {
      const value = Number(t.text) * (negative ? -1 : 1)
      return /[.eE]/.test(t.text) || Number.isSafeInteger(value) ? { value } : undefined
    }
    if (negative) return undefined
    if (t.kind === 'string') return { value: t.text.slice(1, -1) }
    if (t.kind === 'name' && (t.text === 'true' || t.text === 'false')) return { value: t.text === 'true' }
    return t.kind === 'name' && t.text === 'null' ? { value: null } : undefined
  }
  const membership = (read: (e: CloudEvent) => unknown): Shortcut | undefined => {
    if (!peek('[')) return undefined
    at++
    const values: unknown[] = []
    while (!peek(']')) {
      const lit = literal()
      if (lit === undefined) return undefined
      values.push(lit.value)
      if (peek(',')) at++
      else if (!peek(']')) return undefined
    }
    at++
    const type = typeof values[0]
    if (
      values.length === 0 ||
      !values.every((v) => typeof v === type && (type === 'string' || type === 'number'))
    )
      return undefined
    const set = new Set(values)
    return (e) => {
      const v = read(e)
      return typeof v === type ? (set.has(v) ? 1 : 0) : UNSURE
    }
  }
  const result = or()
  return at === tokens.length ? result : undefined
}

function compare(read: (e: CloudEvent) => unknown, op: string, lit: unknown): Shortcut | undefined {
  const eq = op === '=='
  if (typeof lit === 'number') {
    const test = NUMBER_OPS[op]
    if (test === undefined) return undefined
    return (e) => {
      const v = read(e)
      return typeof v === 'number' ? (test(v, lit) ? 1 : 0) : UNSURE
    }
  }
  if (op !== '==' && op !== '!=') return undefined
  if (lit === null) return (e) => (read(e) === null ? (eq ? 1 : 0) : UNSURE)
  const type = typeof lit
  return (e) => {
    const v = read(e)
    return typeof v === type ? ((v === lit) === eq ? 1 : 0) : UNSURE
  }
}

const NUMBER_OPS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
}

/**
 * Reads `root.keys...` as CEL would see it, or ABSENT where CEL would fail or differ: a missing or
 * inherited key, a list, or a map CEL refuses (one with its own `constructor` key).
 */
function fieldReader(root: string, keys: readonly string[]): (e: CloudEvent) => unknown {
  const guard = keys.map(inheritable)
  const base =
    root === 'data'
      ? (e: CloudEvent) => e.data ?? null
      : root === 'event'
        ? (e: CloudEvent) => e
        : root === 'source'
          ? (e: CloudEvent) => e.source
          : (e: CloudEvent) => e.subject ?? null
  return (e) => {
    let value: unknown = base(e)
    for (let i = 0; i < keys.length; i++) {
      if (value === null || typeof value !== 'object' || (value as object).constructor !== Object)
        return ABSENT
      const parent = value as Record<string, unknown>
      const key = keys[i]!
      value = parent[key]
      if (value === undefined || (guard[i] === true && !Object.hasOwn(parent, key))) return ABSENT
    }
    return value
  }
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
