/**
 * Redaction of secret values: every string a secret's value (or a common encoding of it) appears in
 * has it replaced by `[secret:NAME]` (or `***`), deep inside objects, arrays, object keys and errors,
 * before the value is stored, logged, printed or sent. Pure code: the secret store feeds the values
 * (`remember`), and may be asked to catch up before each redaction (`sync`).
 */

/** Values shorter than this are not redacted: replacing `ab` everywhere would shred unrelated text. */
export const MIN_REDACTED_LENGTH = 4

/** Nesting below which values are replaced wholesale rather than walked (a cycle or a hostile value). */
const MAX_DEPTH = 200

export interface RedactorOptions {
  /** `named` (default) writes `[secret:NAME]`; `masked` writes `***` and reveals no name. */
  style?: 'named' | 'masked'
  /**
   * Called before each redaction so the store can hand over values set since (by this or another
   * process) with `remember`. Must be cheap: the store rate-limits its own checks.
   */
  sync?: (redactor: Redactor) => void
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The forms a value takes once encoded in a URL, a JSON string or base64 (as HTTP clients and logs do). */
function variants(value: string): string[] {
  const forms = new Set<string>([value])
  forms.add(JSON.stringify(value).slice(1, -1))
  try {
    forms.add(encodeURIComponent(value))
  } catch {
    // a lone surrogate has no URL form
  }
  const bytes = new TextEncoder().encode(value)
  forms.add(btoaBytes(bytes).replace(/=+$/, ''))
  forms.add(btoaBytes(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'))
  return [...forms].filter((f) => f.length >= MIN_REDACTED_LENGTH)
}

function btoaBytes(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Replaces known secret values wherever they appear. A value once known stays redacted for the
 * life of the redactor, even after the secret is changed or removed (old values may still sit in
 * running actions or caches). With no value known, `redact` returns its argument untouched after one
 * `sync` call, so an installation without secrets pays almost nothing.
 */
export class Redactor {
  readonly #style: 'named' | 'masked'
  readonly #sync: ((redactor: Redactor) => void) | undefined
  /** Encoded form → replacement. */
  readonly #forms = new Map<string, string>()
  /** name → values remembered for it. */
  readonly #known = new Map<string, Set<string>>()
  #pattern: RegExp | undefined
  #dirty = false
  #syncing = false

  constructor(options: RedactorOptions = {}) {
    this.#style = options.style ?? 'named'
    this.#sync = options.sync
  }

  /** Starts redacting `value` as secret `name` (no-op when already known or too short). */
  remember(name: string, value: string): void {
    if (typeof value !== 'string' || value.length < MIN_REDACTED_LENGTH) return
    let values = this.#known.get(name)
    if (!values) this.#known.set(name, (values = new Set()))
    if (values.has(value)) return
    values.add(value)
    const replacement = this.#style === 'masked' ? '***' : `[secret:${name}]`
    for (const form of variants(value)) if (!this.#forms.has(form)) this.#forms.set(form, replacement)
    this.#dirty = true
  }

  /** Number of distinct values redacted. */
  get size(): number {
    let n = 0
    for (const values of this.#known.values()) n += values.size
    return n
  }

  #regex(): RegExp | undefined {
    if (!this.#syncing && this.#sync) {
      this.#syncing = true
      try {
        this.#sync(this)
      } finally {
        this.#syncing = false
      }
    }
    if (this.#dirty) {
      this.#dirty = false
      // longest first, so a value containing another is replaced whole
      const forms = [...this.#forms.keys()].sort((a, b) => b.length - a.length)
      this.#pattern = forms.length === 0 ? undefined : new RegExp(forms.map(escapeRegExp).join('|'), 'g')
    }
    return this.#pattern
  }

  /** `text` with every known value replaced. */
  redactText(text: string): string {
    const pattern = this.#regex()
    return pattern ? this.#replace(text, pattern) : text
  }

  #replace(text: string, pattern: RegExp): string {
    pattern.lastIndex = 0
    if (!pattern.test(text)) return text
    pattern.lastIndex = 0
    return text.replace(pattern, (match) => this.#forms.get(match) ?? '***')
  }

  /**
   * A copy of `value` with every known value replaced in strings, object keys and errors (their
   * message, stack and cause); parts without secrets are returned as they are (no copy). Other class
   * instances (dates, buffers) are returned untouched.
   */
  redact<T>(value: T): T {
    const pattern = this.#regex()
    if (!pattern) return value
    return this.#walk(value, pattern, 0, new WeakMap()) as T
  }

  #walk(value: unknown, pattern: RegExp, depth: number, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.#replace(value, pattern)
    if (typeof value !== 'object' || value === null) return value
    const done = seen.get(value)
    if (done !== undefined) return done
    if (depth > MAX_DEPTH) return '[too deeply nested to redact]'
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined
      seen.set(value, value)
      value.forEach((item: unknown, i) => {
        const r = this.#walk(item, pattern, depth + 1, seen)
        if (r !== item) (copy ??= value.slice())[i] = r
      })
      const result = copy ?? value
      seen.set(value, result)
      return result
    }
    if (value instanceof Error) return this.#error(value, pattern, depth, seen)
    if (!isPlainObject(value)) return value
    seen.set(value, value)
    let changed = false
    const entries: Array<[string, unknown]> = []
    for (const key of Object.keys(value)) {
      const k = this.#replace(key, pattern)
      const v = this.#walk(value[key], pattern, depth + 1, seen)
      if (k !== key || v !== value[key]) changed = true
      entries.push([k, v])
    }
    if (!changed) return value
    const copy: Record<string, unknown> = {}
    for (const [k, v] of entries)
      Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true })
    seen.set(value, copy)
    return copy
  }

  #error(err: Error, pattern: RegExp, depth: number, seen: WeakMap<object, unknown>): Error {
    const message = this.#replace(err.message, pattern)
    const stack = err.stack === undefined ? undefined : this.#replace(err.stack, pattern)
    const cause = err.cause === undefined ? undefined : this.#walk(err.cause, pattern, depth + 1, seen)
    if (message === err.message && stack === err.stack && cause === err.cause) return err
    const copy = Object.create(Object.getPrototypeOf(err) as object) as Error
    for (const key of Object.keys(err))
      (copy as unknown as Record<string, unknown>)[key] = this.#walk(
        (err as unknown as Record<string, unknown>)[key],
        pattern,
        depth + 1,
        seen,
      )
    Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true })
    Object.defineProperty(copy, 'name', { value: err.name, writable: true, configurable: true })
    if (stack !== undefined)
      Object.defineProperty(copy, 'stack', { value: stack, writable: true, configurable: true })
    if (cause !== undefined)
      Object.defineProperty(copy, 'cause', { value: cause, writable: true, configurable: true })
    return copy
  }
}

/** A redactor that knows no secret (tools and tests without a secret store). */
export const NO_REDACTION: Pick<Redactor, 'redact' | 'redactText'> = Object.freeze({
  redact: <T>(value: T): T => value,
  redactText: (text: string) => text,
})
