import type { DurationInput } from './workflow.ts'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * Parses `250ms`, `4s`, `5m`, `1h`, `1d`, compound `1m30s`, or a number of milliseconds.
 * Returns undefined when the input is not a duration (callers report where it was written).
 */
export function parseDuration(input: DurationInput): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined
  if (typeof input !== 'string') return undefined
  const text = input.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const parts = text.match(/\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)/g)
  if (!parts || parts.join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) return undefined
  let total = 0
  for (const part of parts) {
    const m = DURATION_RE.exec(part.trim())
    if (!m) return undefined
    total += Number(m[1]) * UNIT_MS[m[2]!]!
  }
  return total
}

/** Human form of a millisecond count: `850ms`, `4.2s`, `3m12s`, `2h5m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
  return `${Math.floor(ms / 3_600_000)}h${Math.round((ms % 3_600_000) / 60_000)}m`
}
