import type { EnvelopeProblem, CloudEvent } from './event.ts'
import type { NewRun } from './store-port.ts'

/** How an event reached homeostat. */
export type EventVia = 'http' | 'cli' | 'library' | 'engine' | 'replay'

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
}

export interface AppendedEvent {
  seq: number
  /** The (source, id) was stored before: acknowledged again, not routed again. */
  duplicate: boolean
  runIds: string[]
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
  /** Hash of the file content last applied to a workflow (see docs/mesh.md). */
  sourceHash(workflowId: string): Promise<string | undefined>
  setSourceHash(workflowId: string, hash: string): Promise<void>
}
