import { compileEventFilter, FilterInput, type EventFilter } from '../core/event-filter.ts'
import type { CloudEvent } from '../core/event.ts'
import type { TriggerSpec, WorkflowDoc } from '../core/workflow.ts'
import {
  buildTable,
  EMPTY_TABLE,
  explainTargeted,
  explainWorkflow,
  findTarget,
  RANK,
  type Checked,
  type CompiledTrigger,
  type CompiledWorkflow,
  type Group,
  type Slot,
  type Table,
} from './router-table.ts'
import { eventTarget, isTargetedEventType, targetedContext, triggerEventPattern } from './router-triggers.ts'
import { triggerKey } from '../core/trigger-port.ts'

/**
 * The router: which workflows an event starts. Subscriptions are indexed by event type (a map of
 * exact types, a map of `prefix.*` stems, and the `*` list), and the subscriber list of each event
 * type is resolved once and cached, so routing an event costs one map look-up plus the work of the
 * subscribers that match its type; an event nobody subscribes to costs nothing per workflow.
 * Filters are compiled once per (workflow, version, trigger). The rules are in docs/routing.md.
 */

export interface RouteEntry {
  workflowId: string
  version: number
  enabled: boolean
  doc: WorkflowDoc
}

export interface RouteMatch {
  workflowId: string
  version: number
  /** 0-based index into the workflow's `triggers`. */
  triggerIndex: number
  trigger: TriggerSpec
  /**
   * Targeted triggers only: what the run's `trigger` carries besides the event (`triggerType`,
   * `triggerId`, and the event's data fields in camelCase: `filePath`, `scheduledAt`, ...).
   */
  context?: Record<string, unknown>
}

export type SkipReason =
  | 'disabled'
  | 'filter_false'
  | 'filter_error'
  | 'type_mismatch'
  | 'no_event_trigger'
  | 'not_targeted'
  | 'target_missing'

export interface RouteSkip {
  workflowId: string
  version: number
  /** The trigger the reason is about (0-based); absent when it is about the whole workflow. */
  triggerIndex?: number
  reason: SkipReason
  /** One line a person can read (`filter {severity: CRITICAL} is false: severity is "WARNING" ...`). */
  detail: string
  /** The filter as written, for `filter_false` and `filter_error`. */
  filter?: unknown
  /** `explain` only: the fields the filter read and their values (absent fields are left out). */
  seen?: Record<string, unknown>
}

/**
 * The outcome for one event. The arrays are fresh per call; the objects in them are frozen and shared
 * between decisions (the hot path allocates no per-workflow objects).
 */
export interface RoutingDecision {
  eventType: string
  matched: RouteMatch[]
  skipped: RouteSkip[]
}

/** A trigger that can never match, found while loading. `triggerIndex` is -1 for the entry itself. */
export interface RouteProblem {
  workflowId: string
  triggerIndex: number
  message: string
}

/** Cumulative counts since the router was created. */
export interface RouterCounters {
  events: number
  matches: number
  filterEvaluations: number
  filterErrors: number
  /** Filters compiled by `load` (an unchanged (id, version) reuses its compiled filters). */
  filterCompilations: number
}

/** Most event types whose subscriber lists are cached; the cache is emptied when full. */
const RESOLVED_TYPES_LIMIT = 10_000

/** The resolved "groups" of a targeted event type: none by type; the event names its trigger. */
const TARGETED: readonly Group[] = Object.freeze([])

export class Router {
  #table: Table = EMPTY_TABLE
  #compiled = new Map<string, CompiledWorkflow>()
  #resolved = new Map<string, readonly Group[]>()
  readonly #input = new FilterInput()
  #events = 0
  #matches = 0
  #filterEvaluations = 0
  #filterErrors = 0
  #filterCompilations = 0

  /**
   * Replaces the whole table atomically: filters of new (id, version) pairs are compiled, those of
   * unchanged pairs reused (a version is immutable), and `enabled` is taken from the entry. Returns the
   * problems: a trigger whose filter does not compile never matches; a pattern that is not one is
   * ignored; a repeated workflow id keeps its first entry.
   */
  load(entries: readonly RouteEntry[]): RouteProblem[] {
    const compiled = new Map<string, CompiledWorkflow>()
    const problems: RouteProblem[] = []
    const slots: Slot[] = []
    const ids = new Set<string>()
    for (const entry of entries) {
      if (ids.has(entry.workflowId)) {
        problems.push({
          workflowId: entry.workflowId,
          triggerIndex: -1,
          message: `workflow \`${entry.workflowId}\` is listed twice; the router keeps the first entry`,
        })
        continue
      }
      ids.add(entry.workflowId)
      const key = `${entry.workflowId}\u0000${entry.version}`
      const wf = compiled.get(key) ?? this.#compiled.get(key) ?? this.#compile(entry)
      compiled.set(key, wf)
      problems.push(...wf.problems)
      slots.push({
        order: slots.length,
        enabled: entry.enabled,
        wf,
        disabled: Object.freeze({
          workflowId: wf.id,
          version: wf.version,
          reason: 'disabled',
          detail: 'the workflow is disabled',
        }),
      })
    }
    const table = buildTable(slots)
    this.#compiled = compiled
    this.#table = table
    this.#resolved = new Map()
    return problems
  }

  /**
   * Hot path: the workflows this event starts, at most one match per workflow (its first trigger, in
   * document order, whose pattern and filter accept the event). `skipped` lists only workflows whose
   * patterns cover the event's type: disabled ones (filters not evaluated) and those whose filters
   * were false or failed. Never throws for a filter: a failing filter is a `filter_error` skip.
   */
  route(event: CloudEvent): RoutingDecision {
    const type = event.type
    const groups = this.#resolved.get(type) ?? this.#resolve(type)
    const matched: RouteMatch[] = []
    const skipped: RouteSkip[] = []
    this.#events++
    if (groups.length === 0)
      return groups === TARGETED ? this.#routeTargeted(event) : { eventType: type, matched, skipped }
    const input = this.#input.reset(event)
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!
      if (group.disabled !== undefined) skipped.push(group.disabled)
      else if (group.triggers !== undefined) this.#routeGroup(group.triggers, input, matched, skipped)
      else if (group.gate !== undefined) skipped.push(group.gate)
      else if (group.filter === undefined) matched.push(group.match)
      else {
        this.#filterEvaluations++
        const outcome = check(group, input)
        if (outcome === true) matched.push(group.match)
        else {
          if (outcome !== group.filterFalse) this.#filterErrors++
          skipped.push(outcome)
        }
      }
    }
    this.#matches += matched.length
    return { eventType: type, matched, skipped }
  }

  /**
   * A targeted event (schedule tick, file change, webhook call, plugin trigger event) starts the one
   * trigger its data names, if that workflow and trigger are enabled and its filter (if any) holds;
   * an event naming no trigger starts nothing.
   */
  #routeTargeted(event: CloudEvent): RoutingDecision {
    const matched: RouteMatch[] = []
    const skipped: RouteSkip[] = []
    const decision = { eventType: event.type, matched, skipped }
    const target = eventTarget(event.data)
    if (target === undefined) return decision
    const hit = findTarget(this.#table, event.type, target)
    if ('reason' in hit) skipped.push(hit)
    else if (!hit.slot.enabled) skipped.push(hit.slot.disabled)
    else if (hit.trigger.gate !== undefined) skipped.push(hit.trigger.gate)
    else {
      const outcome = hit.trigger.filter === undefined ? true : this.#checkTargeted(hit.trigger, event)
      if (outcome === true) {
        matched.push({
          ...hit.trigger.match,
          context: targetedContext(hit.trigger.match.trigger, target.triggerId, event.data),
        })
        this.#matches++
      } else skipped.push(outcome)
    }
    return decision
  }

  #checkTargeted(trigger: CompiledTrigger, event: CloudEvent): true | RouteSkip {
    this.#filterEvaluations++
    const outcome = check(trigger, this.#input.reset(event))
    if (outcome !== true && outcome !== trigger.filterFalse) this.#filterErrors++
    return outcome
  }

  /** A workflow with several triggers covering the type: its first match, else its strongest skip. */
  #routeGroup(
    triggers: readonly CompiledTrigger[],
    input: FilterInput,
    matched: RouteMatch[],
    skipped: RouteSkip[],
  ): void {
    let skip: RouteSkip | undefined
    let skipRank = -1
    for (const trigger of triggers) {
      let reason: RouteSkip
      let rank: number
      if (trigger.gate !== undefined) {
        reason = trigger.gate
        rank = trigger.gateRank
      } else if (trigger.filter === undefined) {
        matched.push(trigger.match)
        return
      } else {
        this.#filterEvaluations++
        const outcome = check(trigger, input)
        if (outcome === true) {
          matched.push(trigger.match)
          return
        }
        reason = outcome
        rank = RANK.filter_false
        if (outcome !== trigger.filterFalse) {
          this.#filterErrors++
          rank = RANK.filter_error
        }
      }
      if (rank > skipRank) {
        skip = reason
        skipRank = rank
      }
    }
    if (skip !== undefined) skipped.push(skip)
  }

  /**
   * For `homeostat explain`: every workflow once, matched or skipped with its reason — `no_event_trigger`,
   * `type_mismatch` (naming its patterns), `disabled` (saying whether it would match otherwise),
   * `filter_false` (the filter and the values it read) or `filter_error` (the message). Creates nothing
   * and counts nothing.
   */
  explain(event: CloudEvent): RoutingDecision {
    const input = new FilterInput().reset(event)
    const matched: RouteMatch[] = []
    const skipped: RouteSkip[] = []
    if (isTargetedEventType(event.type)) return explainTargeted(this.#table, event, input)
    for (const slot of this.#table.slots) {
      const outcome = explainWorkflow(slot.wf, event.type, input)
      if (!('reason' in outcome)) {
        if (slot.enabled) matched.push(outcome)
        else {
          const detail = `the workflow is disabled; trigger ${outcome.triggerIndex + 1} would start it otherwise`
          skipped.push({ ...slot.disabled, detail })
        }
      } else if (slot.enabled || RANK[outcome.reason] === 0) {
        skipped.push(
          slot.enabled ? outcome : { ...outcome, detail: `${outcome.detail}; the workflow is also disabled` },
        )
      } else {
        skipped.push({ ...slot.disabled, detail: `the workflow is disabled; otherwise: ${outcome.detail}` })
      }
    }
    return { eventType: event.type, matched, skipped }
  }

  /** Event types and wildcard patterns subscribed by enabled triggers of enabled workflows, sorted. */
  subscriptions(): { exact: string[]; wildcard: string[] } {
    const { exact, wildcard } = this.#table.subscriptions
    return { exact: [...exact], wildcard: [...wildcard] }
  }

  /** Cumulative counters (a copy). */
  counters(): RouterCounters {
    return {
      events: this.#events,
      matches: this.#matches,
      filterEvaluations: this.#filterEvaluations,
      filterErrors: this.#filterErrors,
      filterCompilations: this.#filterCompilations,
    }
  }

  #compile(entry: RouteEntry): CompiledWorkflow {
    const triggers: CompiledTrigger[] = []
    const targeted: CompiledTrigger[] = []
    const others: string[] = []
    const problems: RouteProblem[] = []
    const id = entry.workflowId
    const version = entry.version
    ;(entry.doc.triggers ?? []).forEach((trigger, index) => {
      const binding = triggerEventPattern(trigger)
      if (binding === undefined) {
        others.push(String(trigger.type))
        return
      }
      const problem = (message: string): void => {
        problems.push({ workflowId: id, triggerIndex: index, message: `trigger ${index + 1}: ${message}` })
      }
      binding.problems.forEach(problem)
      if (!binding.targeted)
        for (const p of binding.patterns)
          if (p.kind === 'exact' && isTargetedEventType(p.stem))
            problem(
              `\`${p.text}\` events are targeted: they start only the trigger they name (docs/triggers.md), never this one`,
            )
      let filter: EventFilter | undefined
      let broken: RouteSkip | undefined
      try {
        filter = compileEventFilter(trigger.filter)
        if (filter !== undefined) this.#filterCompilations++
      } catch (err) {
        const message = `its filter does not compile, so it never matches: ${(err as Error).message}`
        problem(message)
        broken = Object.freeze({
          workflowId: id,
          version,
          triggerIndex: index,
          reason: 'filter_error',
          detail: message,
          filter: trigger.filter,
        })
      }
      const at = { workflowId: id, version, triggerIndex: index }
      const enabled = trigger.enabled !== false
      const disabled: RouteSkip = Object.freeze({
        ...at,
        reason: 'disabled',
        detail: `trigger ${index + 1} is disabled`,
      })
      ;(binding.targeted ? targeted : triggers).push({
        index,
        enabled,
        target: binding.targeted ? triggerKey(trigger, index) : undefined,
        patterns: binding.patterns,
        filter,
        broken,
        gate: enabled ? broken : disabled,
        gateRank: enabled ? RANK.filter_error : RANK.disabled,
        match: Object.freeze({ ...at, trigger }),
        filterFalse: Object.freeze({
          ...at,
          reason: 'filter_false',
          detail: `${filter?.label ?? 'filter'} is false`,
          filter: trigger.filter,
        }),
        disabled,
      })
    })
    return { id, version, triggers, targeted, others, problems }
  }

  /** The groups of subscribers whose patterns cover `type`, in table order; cached per type. */
  #resolve(type: string): readonly Group[] {
    if (isTargetedEventType(type)) {
      if (this.#resolved.size >= RESOLVED_TYPES_LIMIT) this.#resolved.clear()
      this.#resolved.set(type, TARGETED)
      return TARGETED
    }
    const table = this.#table
    const found = new Set<CompiledTrigger>(table.exact.get(type))
    for (const t of table.all) found.add(t)
    for (let dot = type.indexOf('.'); dot !== -1; dot = type.indexOf('.', dot + 1)) {
      for (const t of table.prefix.get(type.slice(0, dot)) ?? []) found.add(t)
    }
    const sorted = [...found].sort(
      (a, b) => table.owner.get(a)!.order - table.owner.get(b)!.order || a.index - b.index,
    )
    const bySlot: CompiledTrigger[][] = []
    for (let i = 0; i < sorted.length; i++) {
      if (i > 0 && table.owner.get(sorted[i]!) === table.owner.get(sorted[i - 1]!))
        bySlot.at(-1)!.push(sorted[i]!)
      else bySlot.push([sorted[i]!])
    }
    const groups = bySlot.map((triggers): Group => {
      const slot = table.owner.get(triggers[0]!)!
      const { gate, filter, match, filterFalse } = triggers[0]!
      return {
        slot,
        disabled: slot.enabled ? undefined : slot.disabled,
        gate,
        filter,
        match,
        filterFalse,
        triggers: triggers.length > 1 ? triggers : undefined,
      }
    })
    if (this.#resolved.size >= RESOLVED_TYPES_LIMIT) this.#resolved.clear()
    this.#resolved.set(type, groups)
    return groups
  }
}

/** The trigger's filter on this event: `true`, its `filterFalse` skip, or a `filter_error` skip. */
function check(trigger: Checked, input: FilterInput): true | RouteSkip {
  try {
    return trigger.filter!.test(input) ? true : trigger.filterFalse
  } catch (err) {
    return filterError(trigger, err)
  }
}

function filterError(trigger: Checked, err: unknown): RouteSkip {
  const message = err instanceof Error ? err.message : String(err)
  return {
    workflowId: trigger.match.workflowId,
    version: trigger.match.version,
    triggerIndex: trigger.match.triggerIndex,
    reason: 'filter_error',
    detail: message,
    filter: trigger.match.trigger.filter,
  }
}
