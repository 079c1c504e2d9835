import { parseEventPattern, type EventPattern } from './router-patterns.ts'
import type { TriggerSpec } from '../core/workflow.ts'

/**
 * Every stimulus reaches a workflow as an event (DESIGN.md "Data flow"), so each trigger type is a
 * subscription to some event types. This table is the one place that says which: adding a trigger
 * type that routes is one row here.
 */
export interface TriggerEventBinding {
  /** Patterns used when the trigger names none (`event` / `events`). */
  readonly defaults: readonly string[]
  /** Whether the trigger may name its own patterns with `event: <pattern>` or `events: [..]`. */
  readonly narrowable: boolean
  /**
   * Namespace that named patterns are relative to: for `activity`, `event: code_review` means
   * `activity.code_review` (a pattern already starting with `activity.` is taken as written).
   */
  readonly namespace?: string
  /**
   * Whether the router routes this trigger type today. Schedule, file and webhook triggers will arrive
   * as events too, once their sources emit them and say which trigger they are for.
   */
  readonly routed: boolean
}

export const TRIGGER_EVENT_BINDINGS: Readonly<Record<string, TriggerEventBinding>> = Object.freeze({
  event: { defaults: [], narrowable: true, routed: true },
  activity: { defaults: ['activity.*'], narrowable: true, namespace: 'activity', routed: true },
  escalation: { defaults: ['escalation.*'], narrowable: true, namespace: 'escalation', routed: true },
  schedule: { defaults: ['schedule.tick'], narrowable: false, routed: false },
  file_change: { defaults: ['file.changed'], narrowable: false, routed: false },
  webhook: { defaults: ['webhook.received'], narrowable: false, routed: false },
})

export interface TriggerPatterns {
  /** The valid patterns of the trigger (deduplicated, in the order written). */
  patterns: EventPattern[]
  /** From the table: does the router route this trigger type today? */
  routed: boolean
  /** Patterns that could not be read; the rest still apply. */
  problems: string[]
}

/**
 * The event patterns a trigger subscribes to, or undefined for a trigger that no event starts
 * (`manual`, or a plugin type absent from `TRIGGER_EVENT_BINDINGS`).
 */
export function triggerEventPattern(trigger: TriggerSpec): TriggerPatterns | undefined {
  const binding = Object.hasOwn(TRIGGER_EVENT_BINDINGS, trigger.type)
    ? TRIGGER_EVENT_BINDINGS[trigger.type]
    : undefined
  if (binding === undefined) return undefined
  const out: TriggerPatterns = { patterns: [], routed: binding.routed, problems: [] }
  const written: unknown[] = []
  if (binding.narrowable) {
    if (trigger.event !== undefined) written.push(trigger.event)
    if (trigger.events !== undefined) {
      if (Array.isArray(trigger.events)) written.push(...(trigger.events as unknown[]))
      else out.problems.push('`events` must be a list of event types or patterns')
    }
  }
  if (written.length === 0) {
    if (binding.defaults.length === 0) {
      out.problems.push(
        `a \`${trigger.type}\` trigger needs \`event\` (a type, or a prefix ending in .*) or \`events\` (a list of them)`,
      )
    }
    written.push(...binding.defaults)
  }
  const seen = new Set<string>()
  for (const raw of written) {
    const text = binding.namespace === undefined ? raw : inNamespace(raw, binding.namespace)
    const pattern = parseEventPattern(text)
    if (typeof pattern === 'string') out.problems.push(pattern)
    else if (!seen.has(pattern.text)) {
      seen.add(pattern.text)
      out.patterns.push(pattern)
    }
  }
  return out
}

function inNamespace(raw: unknown, namespace: string): unknown {
  if (typeof raw !== 'string' || raw === '') return raw
  if (raw === '*') return `${namespace}.*`
  return raw.startsWith(`${namespace}.`) ? raw : `${namespace}.${raw}`
}
