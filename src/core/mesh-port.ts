import type { EnvelopeProblem, CloudEvent } from './event.ts'
import type { NewRun } from './store-port.ts'

/** How an event reached homeostat; `trigger`: a trigger source of this process (schedule, file, webhook, plugin). */
export type EventVia = 'http' | 'cli' | 'library' | 'engine' | 'replay' | 'trigger'

export interface StoredEvent {
  seq: number
  event: CloudEvent
  receivedAt: number
  via: EventVia
  routedAt?: number
  /** Runs the event started. */
  runs: number
}

/** What routing one event produced: the runs to queue and the decision to keep (JSON). */
export interface RoutePlan {
  runs: NewRun[]
  decision: { matched: unknown[]; skipped: unknown[] }
  /** Waiting runs (`wait.event`) this event resumes: each gets the event as a signal, once. */
  wakes?: WaitWake[]
}

/** A run suspended by `wait.event` until an event of `pattern` (and its filter) arrives. */
export interface EventWait {
  id: number
  runId: string
  /** The signal the waiting step consumes (`wait.event:<step>:<iteration>`). */
  signal: string
  /** An event type, `prefix.*` or `*`. */
  pattern: string
  /** Field equalities the event must have, as in a trigger's map filter (`data.` is implied). */
  match?: Record<string, unknown>
  /** A CEL expression over the event, as in a trigger's CEL filter. Both must hold when both are given. */
  condition?: string
  createdAt: number
  /** No event is awaited after this (the step times out by itself); absent: no limit. */
  expiresAt?: number
}

/** A wait an event satisfied: written as the run's signal in the event's own transaction. */
export interface WaitWake {
  waitId: number
  runId: string
  signal: string
  payload: unknown
}

export interface AppendedEvent {
  seq: number
  /** The (source, id) was stored before: acknowledged again, not routed again. */
  duplicate: boolean
  runIds: string[]
  /** The signals written for the plan's `wakes`, with their row ids. */
  signals?: Array<{ id: number; runId: string; name: string; payload: unknown; createdAt: number }>
}

export interface RejectedEvent {
  id: number
  receivedAt: number
  type?: string
  source?: string
  eventId?: string
  /** What was received, as received (parsed JSON). */
  body: unknown
  reasons: EnvelopeProblem[]
  via: EventVia
  status: 'rejected' | 'replayed'
  replayedSeq?: number
}

export interface MeshCounters {
  eventsReceived: number
  eventsRejected: number
  eventsDuplicate?: number
  workflowsTriggered: number
  workflowsFailed: number
  byType: Array<{ type: string; received: number; triggered: number }>
  byWorkflow: Array<{ workflowId: string; triggered: number; succeeded: number; failed: number }>
}

/** Storage of the event mesh, in the core's vocabulary. */
export interface MeshStore {
  /**
   * Stores events and, in the same transaction, routes each new one through `route` (called
   * synchronously, once per event that is not a duplicate): its runs are queued and its decision kept.
   * When `route` is undefined the events are stored unrouted (`routePending` routes them later).
   */
  appendEvents(
    events: Array<{ event: CloudEvent; receivedAt: number; via: EventVia }>,
    route?: (event: CloudEvent, seq: number) => RoutePlan,
  ): Promise<AppendedEvent[]>
  /** Routes stored events that were never routed, oldest first; returns how many. */
  routePending(
    route: (event: CloudEvent, seq: number) => RoutePlan,
    now: number,
    limit?: number,
  ): Promise<number>
  recentEvents(filter: { type?: string; limit?: number; beforeSeq?: number }): Promise<StoredEvent[]>
  getEvent(seq: number): Promise<StoredEvent | undefined>
  routingDecision(
    eventSeq: number,
  ): Promise<{ decidedAt: number; matched: unknown[]; skipped: unknown[] } | undefined>
  rejectEvent(record: Omit<RejectedEvent, 'id' | 'status' | 'replayedSeq'>): Promise<number>
  listRejected(filter: { status?: 'rejected' | 'replayed'; limit?: number }): Promise<RejectedEvent[]>
  getRejected(id: number): Promise<RejectedEvent | undefined>
  markReplayed(id: number, seq: number): Promise<void>
  meshCounters(): Promise<MeshCounters>
  /** Registers (or replaces, same run and signal) a wait; returns its id. */
  putWait(wait: Omit<EventWait, 'id'>): Promise<number>
  /** Waits not expired at `now`, oldest first; expired ones are removed. */
  listWaits(now: number): Promise<EventWait[]>
  /** Hash of the file content last applied to a workflow (see docs/mesh.md). */
  sourceHash(workflowId: string): Promise<string | undefined>
  setSourceHash(workflowId: string, hash: string): Promise<void>
}
