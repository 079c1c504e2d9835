/** RFC 6901 JSON pointers (building, splitting, reading) and small helpers for plain JSON-like data. */

export function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1')
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~')
}

/** Appends tokens to a pointer: `join('/steps', 0, 'id')` → `/steps/0/id`. */
export function join(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((t) => '/' + escapeToken(t)).join('')
}

export function split(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map(unescapeToken)
}

/** The pointer one level up; the root is its own parent. */
export function parent(pointer: string): string {
  const i = pointer.lastIndexOf('/')
  return i <= 0 ? '' : pointer.slice(0, i)
}

/** The value at `pointer` inside `root`, or undefined. Own properties only. */
export function get(root: unknown, pointer: string): unknown {
  let node = root
  for (const token of split(pointer)) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined
      node = node[Number(token)]
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token]
    } else {
      return undefined
    }
  }
  return node
}

/** Dotted human path of a pointer relative to a base: `/steps/0/with/a/1` under `/steps/0` → `with.a[1]`. */
export function dotted(pointer: string, base = ''): string {
  const tokens = split(pointer.startsWith(base) ? pointer.slice(base.length) : pointer)
  let out = ''
  for (const t of tokens) {
    if (/^(0|[1-9]\d*)$/.test(t)) out += `[${t}]`
    else out += out === '' ? t : `.${t}`
  }
  return out
}

/** Sets an own enumerable property without ever touching the prototype (`__proto__` is data here). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Returns a copy of `obj` with `keys` first, in that order, then any other keys as written. */
export function ordered(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of keys) if (Object.hasOwn(obj, k) && obj[k] !== undefined) setOwn(out, k, obj[k])
  for (const k of Object.keys(obj)) if (!Object.hasOwn(out, k) && obj[k] !== undefined) setOwn(out, k, obj[k])
  return out
}
