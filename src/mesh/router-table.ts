import type { EventFilter, FilterInput } from '../core/event-filter.ts'
import type { RouteMatch, RouteProblem, RouteSkip, SkipReason } from './router.ts'
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
}

export interface CompiledWorkflow {
  readonly id: string
  readonly version: number
  /** Triggers events start (`event`, `activity`, `escalation`), in document order. */
  readonly triggers: readonly CompiledTrigger[]
  /** Types of the other triggers, for `no_event_trigger`. */
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
  readonly subscriptions: { exact: string[]; wildcard: string[] }
}

/** Which skip reason wins when several triggers of a workflow fail. */
export const RANK: Readonly<Record<SkipReason, number>> = {
  no_event_trigger: 0,
  type_mismatch: 0,
  disabled: 1,
  filter_false: 2,
  filter_error: 3,
}

export const EMPTY_TABLE: Table = {
  slots: [],
  exact: new Map(),
  prefix: new Map(),
  all: [],
  owner: new Map(),
  subscriptions: { exact: [], wildcard: [] },
}

/** Indexes the triggers of `slots` by pattern: exact type, prefix stem, or `*`. */
export function buildTable(slots: readonly Slot[]): Table {
  const exact = new Map<string, CompiledTrigger[]>()
  const prefix = new Map<string, CompiledTrigger[]>()
  const all: CompiledTrigger[] = []
  const owner = new Map<CompiledTrigger, Slot>()
  const subscribedExact = new Set<string>()
  const subscribedWildcard = new Set<string>()
  const add = (map: Map<string, CompiledTrigger[]>, key: string, trigger: CompiledTrigger): void => {
    const list = map.get(key)
    if (list === undefined) map.set(key, [trigger])
    else list.push(trigger)
  }
  for (const slot of slots) {
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
    const detail =
      wf.others.length === 0
        ? 'the workflow has no triggers'
        : `no event starts it: its triggers are ${wf.others.join(', ')} (event, activity and escalation triggers are routed)`
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
