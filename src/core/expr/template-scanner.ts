/**
 * Splits a template string into text and `{{ expression }}` parts. The scanner knows enough CEL to
 * find the closing `}}`: it skips string literals (so `{{ "}}" }}` works) and counts brackets (so a
 * map literal `{{ {"a": {"b": 1}} }}` works). A literal `{{` in text is written `{{ "{{" }}`.
 */

/** A part of a template string. `offset` is where the (trimmed) expression starts in the string. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expr'; readonly source: string; readonly offset: number }

/** Why a template string cannot be split: the message and the offset in the string. */
export interface ScanProblem {
  readonly message: string
  readonly offset: number
}

/** True if the string contains a `{{ }}` template (any `{{` starts one). */
export function isTemplateString(s: string): boolean {
  return s.includes('{{')
}

/** End of the string literal starting at `start` (index after the closing quote), or -1 if unterminated. */
function skipString(s: string, start: number): number {
  const quote = s[start] ?? ''
  const triple = s.startsWith(quote.repeat(3), start)
  const closing = triple ? quote.repeat(3) : quote
  for (let i = start + closing.length; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') i++
    else if (s.startsWith(closing, i)) return i + closing.length
    else if (!triple && (c === '\n' || c === '\r')) return -1
  }
  return -1
}

/** Index of the `}}` closing the expression that starts at `from`, or a problem. */
function findClose(s: string, from: number): number | ScanProblem {
  let depth = 0
  for (let i = from; i < s.length; i++) {
    const c = s[i]
    if (c === '"' || c === "'") {
      const end = skipString(s, i)
      if (end < 0) return { message: 'unterminated string literal inside {{ }}', offset: i }
      i = end - 1
    } else if (c === '/' && s[i + 1] === '/') {
      while (i + 1 < s.length && s[i + 1] !== '\n' && !(s[i + 1] === '}' && s[i + 2] === '}' && depth === 0))
        i++
    } else if (c === '{' || c === '[' || c === '(') {
      depth++
    } else if (c === ')' || c === ']') {
      depth = Math.max(0, depth - 1)
    } else if (c === '}') {
      if (depth > 0) depth--
      else if (s[i + 1] === '}') return i
    }
  }
  return { message: "'{{' is not closed by '}}' (write a literal '{{' as {{ \"{{\" }})", offset: from - 2 }
}

/** Splits `s` into parts, or returns the first problem. Empty text parts are left out. */
export function scanTemplate(s: string): TemplatePart[] | ScanProblem {
  const parts: TemplatePart[] = []
  let textStart = 0
  for (let open = s.indexOf('{{'); open >= 0; open = s.indexOf('{{', textStart)) {
    const close = findClose(s, open + 2)
    if (typeof close !== 'number') return close
    if (open > textStart) parts.push({ kind: 'text', text: s.slice(textStart, open) })
    const raw = s.slice(open + 2, close)
    const source = raw.trim()
    parts.push({ kind: 'expr', source, offset: open + 2 + (raw.length - raw.trimStart().length) })
    textStart = close + 2
  }
  if (textStart < s.length) parts.push({ kind: 'text', text: s.slice(textStart) })
  return parts
}
