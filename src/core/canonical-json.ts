/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped. Equal documents give
 * equal text, so its hash identifies a workflow version (and, later, an audit entry).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  // built by concatenation (no filtered, mapped and joined arrays per object): it runs for every
  // audit entry on the writer thread
  if (Array.isArray(value)) {
    let text = '['
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      if (i > 0) text += ','
      text += v === undefined ? 'null' : canonicalJson(v)
    }
    return `${text}]`
  }
  const keys = Object.keys(value).sort()
  let text = '{'
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k]
    if (v === undefined) continue
    if (text.length > 1) text += ','
    text += `${JSON.stringify(k)}:${canonicalJson(v)}`
  }
  return `${text}}`
}
