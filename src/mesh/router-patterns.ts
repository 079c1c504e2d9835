import { EVENT_TYPE_PATTERN } from '../core/event.ts'
import { show } from '../core/suggest.ts'

/** Subscription patterns: which event types a trigger's `event` / `events` cover (docs/routing.md). */

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
