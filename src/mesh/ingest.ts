import { uuidv7 } from 'uuidv7'
import { toCloudEvent, type CloudEvent, type EnvelopeProblem } from '../core/event.ts'
import type { AppendedEvent, EventVia, MeshStore, RoutePlan } from '../core/mesh-port.ts'
import type { EventWaits } from './event-waits.ts'
import { isTargetedEventType } from './router-triggers.ts'
import type { EventPublisher, PublishedEvent, PublishOptions, PublishResult } from '../core/publisher-port.ts'
import type { RunHandoff } from '../core/run-handoff.ts'
import type { NewRun } from '../core/store-port.ts'
import type { RoutingDecision } from './router.ts'

/** What the ingest needs to know about routing; the workflow registry provides it. */
export interface RoutingView {
  route(event: CloudEvent): RoutingDecision
  explain(event: CloudEvent): RoutingDecision
  /** Default values of a workflow version's declared inputs (event-started runs get these). */
  inputDefaults(workflowId: string, version: number): Record<string, unknown>
}

/** What the ingest needs of the schema registry. */
export interface SchemaView {
  has(type: string): boolean
  validate(type: string, data: unknown): EnvelopeProblem[]
}

export type IngestResult =
  | { status: 'accepted'; seq: number; id: string; source: string; type: string; runIds: string[] }
  | { status: 'duplicate'; seq: number; id: string; source: string; type: string }
  | { status: 'invalid'; problems: EnvelopeProblem[] }
  | {
      status: 'rejected'
      rejectedId: number
      id: string
      source: string
      type: string
      problems: EnvelopeProblem[]
    }

/** An audit record the ingest produces; the composition root hands them to the audit log. */
export interface IngestAuditRecord {
  type: 'event.received' | 'event.rejected'
  at: number
  eventId?: string
  data: unknown
}

export interface EventIngestOptions {
  store: MeshStore
  routing: () => RoutingView
  schemas: () => SchemaView
  now?: () => number
  /** `accept` (default) stores events of types without a schema; `reject` answers 422. */
  unknownTypes?: 'accept' | 'reject'
  /** `source` given to events that arrive without one. */
  defaultSource?: string
  /** Called after each committed batch with the runs it queued for claiming (wake the engine). */
  onRunsQueued?: (runIds: string[]) => void
  /** An engine of this process that takes new runs directly (see `RunHandoff`); read per batch. */
  handoff?: () => RunHandoff | undefined
  /** Runs suspended by `wait.event`: an event that satisfies a wait becomes that run's signal. */
  waits?: EventWaits
  /** Called after each committed batch with the signals its events wrote for waiting runs. */
  onSignals?: (signals: NonNullable<AppendedEvent['signals']>) => void
  audit?: (record: IngestAuditRecord) => void
  /**
   * Runs a batch's flush at the start of the store's next write turn (`Store.schedule`), so the
   * batch and the engine's group commit share one transaction; default: the next `setImmediate`.
   */
  schedule?: (flush: () => void) => void
}

interface Pending {
  event: CloudEvent
  via: EventVia
  resolve: (r: IngestResult) => void
  reject: (err: unknown) => void
}

/**
 * The one way in for events (DESIGN.md "Data flow"): envelope check, schema check, then — in one
 * transaction per event-loop turn for every event received in it — store, deduplicate by (source, id),
 * route and queue the runs. A caller's promise resolves after that commit: answer 202 then.
 */
export class EventIngest implements EventPublisher {
  readonly #o: Required<
    Omit<EventIngestOptions, 'onRunsQueued' | 'audit' | 'handoff' | 'waits' | 'onSignals' | 'schedule'>
  > &
    Pick<EventIngestOptions, 'onRunsQueued' | 'audit' | 'handoff' | 'waits' | 'onSignals' | 'schedule'>
  #pending: Pending[] = []
  #scheduled = false

  constructor(options: EventIngestOptions) {
    this.#o = { now: Date.now, unknownTypes: 'accept', defaultSource: 'homeostat://ingest', ...options }
  }

  /** Checks an event without storing or routing it: its envelope and schema problems, and the routing decision. */
  explain(body: unknown): { event?: CloudEvent; problems: EnvelopeProblem[]; decision?: RoutingDecision } {
    const checked = this.#check(body)
    if (!checked.event) return { problems: checked.problems }
    return {
      event: checked.event,
      problems: checked.problems,
      decision: this.#o.routing().explain(checked.event),
    }
  }

  #check(
    body: unknown,
    via?: EventVia,
  ): { event?: CloudEvent; problems: EnvelopeProblem[]; schemaProblems?: boolean } {
    const parsed = toCloudEvent(body, {
      id: uuidv7,
      source: this.#o.defaultSource,
      now: () => new Date(this.#o.now()),
    })
    if (!parsed.event) return { problems: parsed.problems }
    const event = parsed.event
    // targeted types start one trigger without its own checks (a webhook's signature): only
    // homeostat's trigger sources and in-process code may publish them
    if (via !== undefined && isTargetedEventType(event.type) && via !== 'trigger' && via !== 'library') {
      return {
        problems: [
          {
            pointer: '/type',
            message: `${event.type} events are published by homeostat's own triggers (schedule, file_change, webhook, plugins), not through ${via === 'http' ? 'POST /events' : `the ${via} path`}`,
          },
        ],
      }
    }
    const schemas = this.#o.schemas()
    if (!schemas.has(event.type)) {
      // a trigger's own events have no schema to register: unknown-type rejection is for the outside
      if (this.#o.unknownTypes === 'reject' && via !== 'trigger') {
        return {
          event,
          schemaProblems: true,
          problems: [
            {
              pointer: '/type',
              message: `no schema is registered for type ${event.type}, and unknown types are rejected`,
            },
          ],
        }
      }
      return { event, problems: [] }
    }
    const violations = schemas.validate(event.type, event.data)
    return violations.length > 0
      ? { event, problems: violations, schemaProblems: true }
      : { event, problems: [] }
  }

  /** Ingests each body; resolves after the accepted ones are durably stored and routed. */
  async submit(bodies: readonly unknown[], via: EventVia): Promise<IngestResult[]> {
    const now = this.#o.now()
    return Promise.all(
      bodies.map(async (body): Promise<IngestResult> => {
        const checked = this.#check(body, via)
        if (!checked.event) return { status: 'invalid', problems: checked.problems }
        const { event } = checked
        if (checked.schemaProblems) {
          const rejectedId = await this.#o.store.rejectEvent({
            receivedAt: now,
            type: event.type,
            source: event.source,
            eventId: event.id,
            body,
            reasons: checked.problems,
            via,
          })
          this.#o.audit?.({
            type: 'event.rejected',
            at: now,
            eventId: event.id,
            data: { type: event.type, source: event.source, rejectedId, reasons: checked.problems },
          })
          return {
            status: 'rejected',
            rejectedId,
            id: event.id,
            source: event.source,
            type: event.type,
            problems: checked.problems,
          }
        }
        return new Promise<IngestResult>((resolve, reject) => {
          this.#pending.push({ event, via, resolve, reject })
          this.#schedule()
        })
      }),
    )
  }

  /** The library call of plugins, detectors and `event.emit`: one event, with its outcome. */
  async publish(
    event: PublishedEvent,
    options: PublishOptions & { via?: EventVia } = {},
  ): Promise<PublishResult> {
    // the emitting step travels with the event as CloudEvents extension attributes
    const body = options.causedBy
      ? { ...event, causedbyrun: options.causedBy.runId, causedbystep: options.causedBy.stepId }
      : event
    const [result] = await this.submit([body], options.via ?? 'library')
    if (result!.status === 'accepted' || result!.status === 'duplicate')
      return { id: result!.id, accepted: true }
    return {
      id: result!.status === 'rejected' ? result!.id : (event.id ?? ''),
      accepted: false,
      problems: result!.problems,
    }
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // the wait index is brought up to date while the batch gathers, so the flush itself reaches
    // the store without waiting (and joins the write turn it was scheduled for)
    this.#refreshed = false
    this.#refreshing = (this.#o.waits?.refresh() ?? Promise.resolve()).then(
      () => {
        this.#refreshed = true
      },
      () => {
        this.#refreshed = true // a failed look keeps the index as it was; the next batch looks again
      },
    )
    const run = (): void => {
      this.#scheduled = false
      void this.#flush()
    }
    if (this.#o.schedule) this.#o.schedule(run)
    else setImmediate(run)
  }

  #refreshed = true
  #refreshing: Promise<void> = Promise.resolve()

  #plan(event: CloudEvent, seq: number, now: number, handoff?: RunHandoff): RoutePlan {
    const routing = this.#o.routing()
    const decision = routing.route(event)
    const runs: NewRun[] = decision.matched.map((m) => ({
      id: uuidv7(),
      workflowId: m.workflowId,
      workflowVersion: m.version,
      trigger: {
        type: 'event',
        eventSeq: seq,
        eventId: event.id,
        source: event.source,
        eventType: event.type,
        triggerIndex: m.triggerIndex,
        event,
        // a targeted trigger's fields (filePath, scheduledAt, ...): see RouteMatch.context
        ...m.context,
      },
      inputs: routing.inputDefaults(m.workflowId, m.version),
      createdAt: now,
      ...(handoff?.reserve() ? { leasedTo: { owner: handoff.owner, expiresAt: now + handoff.leaseMs } } : {}),
    }))
    const wakes = this.#o.waits?.match(event)
    return {
      runs,
      decision: {
        matched: decision.matched.map((m, i) => ({
          workflowId: m.workflowId,
          version: m.version,
          triggerIndex: m.triggerIndex,
          runId: runs[i]!.id,
        })),
        skipped: decision.skipped,
        ...(wakes?.length ? { resumed: wakes.map((w) => ({ runId: w.runId, signal: w.signal })) } : {}),
      },
      ...(wakes?.length ? { wakes } : {}),
    }
  }

  async #flush(): Promise<void> {
    const batch = this.#pending
    this.#pending = []
    if (batch.length === 0) return
    const now = this.#o.now()
    const plans = new Map<number, RoutePlan>()
    const handoff = this.#o.handoff?.()
    let handed: NewRun[] = []
    try {
      if (!this.#refreshed) await this.#refreshing
      const results = await this.#o.store.appendEvents(
        batch.map((p) => ({ event: p.event, receivedAt: now, via: p.via })),
        (event, seq) => {
          const plan = this.#plan(event, seq, now, handoff)
          for (const run of plan.runs) if (run.leasedTo) handed.push(run)
          plans.set(seq, plan)
          return plan
        },
      )
      if (handed.length > 0) {
        const adopted = handed
        handed = []
        handoff!.adopt(adopted)
      }
      const queued: string[] = []
      results.forEach((r, i) => {
        const { event } = batch[i]!
        if (r.duplicate) {
          batch[i]!.resolve({
            status: 'duplicate',
            seq: r.seq,
            id: event.id,
            source: event.source,
            type: event.type,
          })
          return
        }
        for (const run of plans.get(r.seq)!.runs) if (!run.leasedTo) queued.push(run.id)
        // one entry per event: its receipt and the routing decision made in the same transaction
        this.#o.audit?.({
          type: 'event.received',
          at: now,
          eventId: event.id,
          data: {
            seq: r.seq,
            type: event.type,
            source: event.source,
            via: batch[i]!.via,
            routing: plans.get(r.seq)!.decision,
          },
        })
        batch[i]!.resolve({
          status: 'accepted',
          seq: r.seq,
          id: event.id,
          source: event.source,
          type: event.type,
          runIds: r.runIds,
        })
      })
      if (queued.length > 0) this.#o.onRunsQueued?.(queued)
      const signals = results.flatMap((r) => r.signals ?? [])
      if (signals.length > 0) this.#o.onSignals?.(signals)
    } catch (err) {
      // the waits this batch matched are still stored: index them again
      if (this.#o.waits) await this.#o.waits.load().catch(() => undefined)
      if (handed.length > 0) handoff!.unreserve(handed.length)
      for (const p of batch) p.reject(err)
    }
  }

  /** Routes events stored without routing (e.g. published while no server ran); call at start. */
  async routePending(): Promise<number> {
    const now = this.#o.now()
    return this.#o.store.routePending((event, seq) => this.#plan(event, seq, now), now)
  }
}
