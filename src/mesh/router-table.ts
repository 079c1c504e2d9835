import type { EventFilter, FilterInput } from '../core/event-filter.ts'
import type { CloudEvent } from '../core/event.ts'
import type { RouteMatch, RouteProblem, RouteSkip, RoutingDecision, SkipReason } from './router.ts'
import { eventTarget, targetedContext } from './router-triggers.ts'
import { patternMatches, type EventPattern } from './router-patterns.ts'

/**
 * The router's compiled table (what `Router.load` builds) and the explanation of one workflow's fate
 * for an event type. Internal to `router.ts`.
 */

/** One routed trigger of one workflow version; shared between loads while (id, version) is unchanged. */
export interface CompiledTrigger extends Checked {
  readonly index: number
  readonly enabled: boolean
  readonly patterns: readonly EventPattern[]
  readonly filter: EventFilter | undefined
  /** Set when the filter does not compile: the trigger never matches and says so. */
  readonly broken: RouteSkip | undefined
  /** Why the trigger is not even tried (it is disabled, or broken), with that reason's rank. */
  readonly gate: RouteSkip | undefined
  readonly gateRank: number
  readonly match: RouteMatch
  readonly filterFalse: RouteSkip
  readonly disabled: RouteSkip
  /** Targeted triggers only: the key targeted events name it by (`id`, or the index as a string). */
  readonly target: string | undefined
}

export interface CompiledWorkflow {
  readonly id: string
  readonly version: number
  /** Triggers events of a type start (`event`, `activity`, `escalation`), in document order. */
  readonly triggers: readonly CompiledTrigger[]
  /** Triggers started only by events naming them (`schedule`, `file_change`, `webhook`, plugins). */
  readonly targeted: readonly CompiledTrigger[]
  /** Types of the triggers no event starts (`manual`), for `no_event_trigger`. */
  readonly others: readonly string[]
  readonly problems: readonly RouteProblem[]
}

/** A workflow in the current table. */
export interface Slot {
  readonly order: number
  readonly enabled: boolean
  readonly wf: CompiledWorkflow
  readonly disabled: RouteSkip
}

/** What the hot path needs of a trigger. */
export interface Checked {
  readonly gate: RouteSkip | undefined
  readonly filter: EventFilter | undefined
  readonly match: RouteMatch
  readonly filterFalse: RouteSkip
}

/**
 * The triggers of one workflow whose patterns cover an event type, in trigger order. The hot fields
 * of the first are copied in, so the common one-trigger workflow costs one object per event type:
 * routing is bound by memory reads, not by arithmetic.
 */
export interface Group extends Checked {
  readonly slot: Slot
  /** The workflow's `disabled` skip when it is disabled. */
  readonly disabled: RouteSkip | undefined
  /** Every trigger when there are several; undefined when there is one. */
  readonly triggers: readonly CompiledTrigger[] | undefined
}

/** One loaded routing table; replaced whole by `Router.load`. */
export interface Table {
  readonly slots: readonly Slot[]
  readonly exact: ReadonlyMap<string, CompiledTrigger[]>
  readonly prefix: ReadonlyMap<string, CompiledTrigger[]>
  readonly all: readonly CompiledTrigger[]
  readonly owner: ReadonlyMap<CompiledTrigger, Slot>
  /** Targeted triggers by `targetId(type, workflow, trigger key)`. */
  readonly targets: ReadonlyMap<string, CompiledTrigger>
  readonly byId: ReadonlyMap<string, Slot>
  readonly subscriptions: { exact: string[]; wildcard: string[] }
}

/** Key of a targeted trigger in `Table.targets`. */
export function targetId(type: string, workflowId: string, triggerKey: string): string {
  return `${type}\u0000${workflowId}\u0000${triggerKey}`
}

/** Which skip reason wins when several triggers of a workflow fail. */
export const RANK: Readonly<Record<SkipReason, number>> = {
  no_event_trigger: 0,
  type_mismatch: 0,
  disabled: 1,
  filter_false: 2,
  filter_error: 3,
  not_targeted: 0,
  target_missing: 0,
}

export const EMPTY_TABLE: Table = {
  slots: [],
  exact: new Map(),
  prefix: new Map(),
  all: [],
  owner: new Map(),
  targets: new Map(),
  byId: new Map(),
  subscriptions: { exact: [], wildcard: [] },
}

/** Indexes the triggers of `slots` by pattern: exact type, prefix stem, or `*`. */
export function buildTable(slots: readonly Slot[]): Table {
  const exact = new Map<string, CompiledTrigger[]>()
  const prefix = new Map<string, CompiledTrigger[]>()
  const all: CompiledTrigger[] = []
  const owner = new Map<CompiledTrigger, Slot>()
  const targets = new Map<string, CompiledTrigger>()
  const byId = new Map<string, Slot>()
  const subscribedExact = new Set<string>()
  const subscribedWildcard = new Set<string>()
  const add = (map: Map<string, CompiledTrigger[]>, key: string, trigger: CompiledTrigger): void => {
    const list = map.get(key)
    if (list === undefined) map.set(key, [trigger])
    else list.push(trigger)
  }
  for (const slot of slots) {
    byId.set(slot.wf.id, slot)
    for (const trigger of slot.wf.targeted) {
      owner.set(trigger, slot)
      for (const pattern of trigger.patterns)
        targets.set(targetId(pattern.text, slot.wf.id, trigger.target!), trigger)
      if (slot.enabled && trigger.enabled && trigger.broken === undefined)
        for (const pattern of trigger.patterns) subscribedExact.add(pattern.text)
    }
    for (const trigger of slot.wf.triggers) {
      owner.set(trigger, slot)
      for (const pattern of trigger.patterns) {
        if (pattern.kind === 'exact') add(exact, pattern.stem, trigger)
        else if (pattern.kind === 'prefix') add(prefix, pattern.stem, trigger)
        else all.push(trigger)
        if (slot.enabled && trigger.enabled && trigger.broken === undefined)
          (pattern.kind === 'exact' ? subscribedExact : subscribedWildcard).add(pattern.text)
      }
    }
  }
  return {
    slots,
    exact,
    prefix,
    all,
    owner,
    targets,
    byId,
    subscriptions: { exact: [...subscribedExact].sort(), wildcard: [...subscribedWildcard].sort() },
  }
}

/** One workflow's fate for an event type, ignoring whether the workflow is enabled. */
export function explainWorkflow(
  wf: CompiledWorkflow,
  type: string,
  input: FilterInput,
): RouteMatch | RouteSkip {
  const base = { workflowId: wf.id, version: wf.version }
  if (wf.triggers.length === 0) {
    const targeted = [...new Set(wf.targeted.map((t) => t.match.trigger.type))]
    const types = [...new Set([...targeted, ...wf.others])]
    const how = [
      ...(targeted.length > 0
        ? [`${targeted.join(', ')} triggers start it only through events that name them`]
        : []),
      ...(wf.others.length > 0 ? [`${wf.others.join(', ')}: run by hand`] : []),
    ]
    const detail =
      types.length === 0
        ? 'the workflow has no triggers'
        : `no \`${type}\` event starts it: its triggers are ${types.join(', ')} (${how.join('; ')})`
    return { ...base, reason: 'no_event_trigger', detail }
  }
  let skip: RouteSkip | undefined
  for (const trigger of wf.triggers) {
    if (!trigger.patterns.some((p) => patternMatches(p, type))) continue
    let reason: RouteSkip
    if (!trigger.enabled) reason = trigger.disabled
    else if (trigger.broken !== undefined) reason = trigger.broken
    else if (trigger.filter === undefined) return trigger.match
    else {
      const outcome = trigger.filter.explain(input)
      if ('result' in outcome && outcome.result) return trigger.match
      const at = { ...base, triggerIndex: trigger.index, filter: trigger.filter.source, seen: outcome.seen }
      reason =
        'error' in outcome
          ? { ...at, reason: 'filter_error', detail: outcome.detail }
          : { ...at, reason: 'filter_false', detail: outcome.detail }
    }
    if (skip === undefined || RANK[reason.reason] > RANK[skip.reason]) skip = reason
  }
  if (skip !== undefined) return skip
  const patterns = wf.triggers.flatMap((t) => t.patterns.map((p) => p.text))
  const detail =
    patterns.length === 0
      ? 'its event triggers have no valid pattern'
      : `event type \`${type}\` matches none of its patterns: ${[...new Set(patterns)].join(', ')}`
  return { ...base, reason: 'type_mismatch', detail }
}

/**
 * The trigger a targeted event names, or the `target_missing` skip saying why there is none (no such
 * workflow, no such trigger, or a trigger of another type).
 */
export function findTarget(
  table: Table,
  type: string,
  target: { workflowId: string; triggerId: string },
): { slot: Slot; trigger: CompiledTrigger } | RouteSkip {
  const trigger = table.targets.get(targetId(type, target.workflowId, target.triggerId))
  if (trigger !== undefined) return { slot: table.owner.get(trigger)!, trigger }
  const slot = table.byId.get(target.workflowId)
  const named = `trigger \`${target.triggerId}\` of workflow \`${target.workflowId}\``
  if (slot === undefined)
    return {
      workflowId: target.workflowId,
      version: 0,
      reason: 'target_missing',
      detail: `the event is for ${named}, and no such workflow is loaded`,
    }
  const other = slot.wf.targeted.find((t) => t.target === target.triggerId)
  return {
    workflowId: slot.wf.id,
    version: slot.wf.version,
    ...(other ? { triggerIndex: other.index } : {}),
    reason: 'target_missing',
    detail: other
      ? `the event is for ${named}, which is a \`${other.match.trigger.type}\` trigger: \`${type}\` events do not start it`
      : `the event is for ${named}, which has no such trigger (triggers are named by \`id\`, else by index from 0)`,
  }
}

/** `explain` of a targeted event: its trigger's outcome; every other workflow `not_targeted`. */
export function explainTargeted(table: Table, event: CloudEvent, input: FilterInput): RoutingDecision {
  const matched: RouteMatch[] = []
  const skipped: RouteSkip[] = []
  const target = eventTarget(event.data)
  const elsewhere =
    target === undefined
      ? `this \`${event.type}\` event names no trigger (data.workflow_id and data.trigger_id), so it starts nothing`
      : `this \`${event.type}\` event is for trigger \`${target.triggerId}\` of workflow \`${target.workflowId}\` only`
  const hit = target === undefined ? undefined : findTarget(table, event.type, target)
  if (hit !== undefined && 'reason' in hit && hit.version === 0) skipped.push(hit)
  for (const slot of table.slots) {
    const at = { workflowId: slot.wf.id, version: slot.wf.version }
    if (hit === undefined || slot.wf.id !== target!.workflowId) {
      skipped.push({ ...at, reason: 'not_targeted', detail: elsewhere })
      continue
    }
    if ('reason' in hit) {
      skipped.push(hit)
      continue
    }
    const trigger = hit.trigger
    let outcome: RouteSkip | undefined
    if (!trigger.enabled) outcome = trigger.disabled
    else if (trigger.broken !== undefined) outcome = trigger.broken
    else if (trigger.filter !== undefined) {
      const result = trigger.filter.explain(input)
      if (!('result' in result && result.result)) {
        const where = {
          ...at,
          triggerIndex: trigger.index,
          filter: trigger.filter.source,
          seen: result.seen,
        }
        outcome =
          'error' in result
            ? { ...where, reason: 'filter_error', detail: result.detail }
            : { ...where, reason: 'filter_false', detail: result.detail }
      }
    }
    if (outcome !== undefined)
      skipped.push(
        slot.enabled ? outcome : { ...outcome, detail: `${outcome.detail}; the workflow is also disabled` },
      )
    else if (!slot.enabled)
      skipped.push({
        ...slot.disabled,
        detail: `the workflow is disabled; trigger ${trigger.index + 1} would start it otherwise`,
      })
    else
      matched.push({
        ...trigger.match,
        context: targetedContext(trigger.match.trigger, target!.triggerId, event.data),
      })
  }
  return { eventType: event.type, matched, skipped }
}
