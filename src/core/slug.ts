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
