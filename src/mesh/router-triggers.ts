import { parseEventPattern, type EventPattern } from './router-patterns.ts'
import {
  FILE_CHANGED,
  pluginTriggerEventType,
  SCHEDULE_TICK,
  TARGET_TRIGGER_KEY,
  TARGET_WORKFLOW_KEY,
  WEBHOOK_RECEIVED,
} from '../core/trigger-port.ts'
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
   * Targeted: the trigger's own source emits its events, naming it in `data.workflow_id` and
   * `data.trigger_id`, and such an event starts that trigger only (docs/triggers.md). Untargeted
   * triggers subscribe to event types, and every matching workflow starts.
   */
  readonly targeted: boolean
}

export const TRIGGER_EVENT_BINDINGS: Readonly<Record<string, TriggerEventBinding>> = Object.freeze({
  event: { defaults: [], narrowable: true, targeted: false },
  activity: { defaults: ['activity.*'], narrowable: true, namespace: 'activity', targeted: false },
  escalation: { defaults: ['escalation.*'], narrowable: true, namespace: 'escalation', targeted: false },
  schedule: { defaults: [SCHEDULE_TICK], narrowable: false, targeted: true },
  file_change: { defaults: [FILE_CHANGED], narrowable: false, targeted: true },
  webhook: { defaults: [WEBHOOK_RECEIVED], narrowable: false, targeted: true },
})

/** Trigger types no event starts: run by hand (CLI, API) only. */
const UNROUTED_TYPES = new Set(['manual'])

const TARGETED_TYPES = new Set([SCHEDULE_TICK, FILE_CHANGED, WEBHOOK_RECEIVED])

/**
 * Whether events of `type` are targeted: those of the built-in sources, and `trigger.<type>` of
 * plugin trigger types. Only the trigger they name may start a run from them.
 */
export function isTargetedEventType(type: string): boolean {
  return TARGETED_TYPES.has(type) || type.startsWith('trigger.')
}

/** The trigger a targeted event names, or undefined when its data names none. */
export function eventTarget(data: unknown): { workflowId: string; triggerId: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const workflowId = (data as Record<string, unknown>)[TARGET_WORKFLOW_KEY]
  const triggerId = (data as Record<string, unknown>)[TARGET_TRIGGER_KEY]
  return typeof workflowId === 'string' && typeof triggerId === 'string'
    ? { workflowId, triggerId }
    : undefined
}

/** Keys of the run's trigger info that the event's data cannot replace. */
const RESERVED = new Set(['type', 'eventSeq', 'eventId', 'source', 'eventType', 'triggerIndex'])

/**
 * What a run started by a targeted event carries in `trigger` besides the event: the trigger's type
 * and key, and every field of the data except the target keys, in camelCase (`file_path` →
 * `filePath`, `scheduled_at` → `scheduledAt`). A data field `event` (a file change's
 * `add|change|unlink`) replaces the envelope under `trigger.event`; the envelope's id and sequence
 * stay in `trigger.eventId` and `trigger.eventSeq`.
 */
export function targetedContext(
  trigger: TriggerSpec,
  triggerId: string,
  data: unknown,
): Record<string, unknown> {
  const context: Record<string, unknown> = { triggerType: trigger.type, triggerId }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return context
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (key === TARGET_WORKFLOW_KEY || key === TARGET_TRIGGER_KEY) continue
    const name = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
    if (!RESERVED.has(name) && !Object.hasOwn(context, name)) context[name] = value
  }
  return context
}

export interface TriggerPatterns {
  /** The valid patterns of the trigger (deduplicated, in the order written). */
  patterns: EventPattern[]
  /** From the table: is the trigger targeted (started only by events naming it)? */
  targeted: boolean
  /** Patterns that could not be read; the rest still apply. */
  problems: string[]
}

/**
 * The event patterns a trigger subscribes to, or undefined for a trigger that no event starts
 * (`manual`). A type absent from `TRIGGER_EVENT_BINDINGS` is a plugin trigger type: targeted, on
 * `trigger.<type>` events.
 */
export function triggerEventPattern(trigger: TriggerSpec): TriggerPatterns | undefined {
  if (typeof trigger.type !== 'string' || UNROUTED_TYPES.has(trigger.type)) return undefined
  const binding: TriggerEventBinding = Object.hasOwn(TRIGGER_EVENT_BINDINGS, trigger.type)
    ? TRIGGER_EVENT_BINDINGS[trigger.type]!
    : { defaults: [pluginTriggerEventType(trigger.type)], narrowable: false, targeted: true }
  const out: TriggerPatterns = { patterns: [], targeted: binding.targeted, problems: [] }
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
