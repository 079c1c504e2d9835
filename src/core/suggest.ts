/**
 * "Did you mean" for names a user typed: the closest candidate by edit distance, ignoring case,
 * `_`, `-` and `.` (so `onError` finds `on_error`). Returns undefined when nothing is close enough.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const squash = (s: string): string => s.toLowerCase().replace(/[-_.\s]/g, '')
  const wanted = squash(input)
  let best: string | undefined
  let bestScore = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === input) continue
    const target = squash(candidate)
    if (target === wanted) return candidate
    const score = distance(wanted, target)
    if (score < bestScore) {
      best = candidate
      bestScore = score
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(Math.max(wanted.length, 1) / 3)))
  return bestScore <= allowed ? best : undefined
}

/** `; did you mean \`x\`?` or the empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const hit = closest(input, candidates)
  return hit === undefined ? '' : `; did you mean \`${hit}\`?`
}

/** Damerau-Levenshtein (optimal string alignment) distance, capped at 64 characters of input. */
function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** "unknown key `nedds` in step `shout`; did you mean `needs`? Allowed keys: id, name, …" */
export function unknownKey(key: string, where: string, allowed: readonly string[]): string {
  const hint = didYouMean(key, allowed)
  return `unknown key \`${key}\` in ${where}${hint === '' ? '.' : hint} Allowed keys: ${allowed.join(', ')}`
}

/** A user's value as message text: strings as they are, anything else as (shortened) JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return value
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint' ||
    value === null ||
    value === undefined
  ) {
    return String(value)
  }
  let text: string
  try {
    text = JSON.stringify(value) ?? typeof value
  } catch {
    text = typeof value
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}
