import type { CloudEvent } from '../../core/event.ts'
import type {
  AppendedEvent,
  EventVia,
  EventWait,
  MeshCounters,
  MeshStore,
  RejectedEvent,
  RoutePlan,
  StoredEvent,
} from '../../core/mesh-port.ts'
import type { SqliteDb, SqliteStatement, SqlValue } from './sqlite-driver.ts'
import { runInserter } from './run-rows.ts'
import { immediateTransaction, StatementCache, turnTransaction } from './sqlite-statements.ts'

type Row = Record<string, SqlValue>

function toStored(row: Row): StoredEvent {
  const stored: StoredEvent = {
    seq: Number(row.seq),
    event: JSON.parse(row.envelope as string) as CloudEvent,
    receivedAt: Number(row.received_at),
    via: row.via as EventVia,
    runs: Number(row.runs),
  }
  if (row.routed_at !== null) stored.routedAt = Number(row.routed_at)
  return stored
}

function toRejected(row: Row): RejectedEvent {
  const r: RejectedEvent = {
    id: Number(row.id),
    receivedAt: Number(row.received_at),
    body: JSON.parse(row.body as string),
    reasons: JSON.parse(row.reasons as string) as RejectedEvent['reasons'],
    via: row.via as EventVia,
    status: row.status as RejectedEvent['status'],
  }
  if (row.type !== null) r.type = row.type as string
  if (row.source !== null) r.source = row.source as string
  if (row.event_id !== null) r.eventId = row.event_id as string
  if (row.replayed_seq !== null) r.replayedSeq = Number(row.replayed_seq)
  return r
}

/** The event mesh's tables, on the connection of `SqliteStore` (`new SqliteMeshStore(store.handle)`). */
export class SqliteMeshStore implements MeshStore {
  readonly #db: SqliteDb
  readonly #stmts: StatementCache
  #insertRun: ((run: RoutePlan['runs'][number]) => void) | undefined

  constructor(db: SqliteDb) {
    this.#db = db
    this.#stmts = new StatementCache(db)
  }

  #q(sql: string): SqliteStatement {
    return this.#stmts.q(sql)
  }

  #tx<T>(fn: () => T): T {
    return immediateTransaction(this.#db, fn)
  }

  /** Queues the plan's runs; inside the caller's transaction. */
  #queueRuns(plan: RoutePlan): string[] {
    this.#insertRun ??= runInserter(this.#db)
    for (const run of plan.runs) this.#insertRun(run)
    return plan.runs.map((r) => r.id)
  }

  async appendEvents(
    events: Array<{ event: CloudEvent; receivedAt: number; via: EventVia }>,
    route?: (event: CloudEvent, seq: number) => RoutePlan,
  ): Promise<AppendedEvent[]> {
    if (events.length === 0) return []
    // routing is pure and in memory: the event row is written once, already routed, with its decision
    const insert = this.#q(
      `INSERT INTO events (seq, source, id, type, subject, time, envelope, received_at, via, routed_at, runs, decision)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const existing = this.#q('SELECT seq FROM events WHERE source = ? AND id = ?')
    // in the turn's shared transaction, with the engine's group commit of the same turn
    return turnTransaction(this.#db).run(() => {
      let seq = Number(this.#q('SELECT COALESCE(MAX(seq), 0) AS s FROM events').get()!.s)
      return events.map(({ event, receivedAt, via }) => {
        const dup = existing.get(event.source, event.id)
        if (dup) return { seq: Number(dup.seq), duplicate: true, runIds: [] }
        seq++
        const plan = route?.(event, seq)
        insert.run(
          seq,
          event.source,
          event.id,
          event.type,
          event.subject ?? null,
          event.time ?? null,
          JSON.stringify(event),
          receivedAt,
          via,
          plan ? receivedAt : null,
          plan ? plan.runs.length : 0,
          plan ? JSON.stringify(plan.decision) : null,
        )
        const runIds = plan ? this.#queueRuns(plan) : []
        return plan?.wakes?.length
          ? { seq, duplicate: false, runIds, signals: this.#wake(plan.wakes, receivedAt) }
          : { seq, duplicate: false, runIds }
      })
    })
  }

  /** Turns satisfied waits into their runs' signals (and forgets the waits); inside the caller's transaction. */
  #wake(wakes: NonNullable<RoutePlan['wakes']>, now: number): NonNullable<AppendedEvent['signals']> {
    const signals: NonNullable<AppendedEvent['signals']> = []
    for (const w of wakes) {
      // a wait another event took first in this same batch is gone: that event won
      if (Number(this.#q('DELETE FROM event_waits WHERE id = ?').run(w.waitId).changes) === 0) continue
      const row = this.#q(
        'INSERT INTO run_signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)',
      ).run(w.runId, w.signal, JSON.stringify(w.payload), now)
      // a parked run becomes due; one still held gets the signal from its engine
      this.#q('UPDATE run_queue SET available_at = ? WHERE run_id = ? AND lease_owner IS NULL').run(
        now,
        w.runId,
      )
      signals.push({
        id: Number(row.lastInsertRowid),
        runId: w.runId,
        name: w.signal,
        payload: w.payload,
        createdAt: now,
      })
    }
    return signals
  }

  async putWait(wait: Omit<EventWait, 'id'>): Promise<number> {
    const row = this.#q(
      `INSERT INTO event_waits (run_id, signal, pattern, filter, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, signal) DO UPDATE SET pattern = excluded.pattern, filter = excluded.filter,
         created_at = excluded.created_at, expires_at = excluded.expires_at
       RETURNING id`,
    ).get(
      wait.runId,
      wait.signal,
      wait.pattern,
      wait.match === undefined && wait.condition === undefined
        ? null
        : JSON.stringify({ match: wait.match, condition: wait.condition }),
      wait.createdAt,
      wait.expiresAt ?? null,
    )
    return Number(row!.id)
  }

  async listWaits(now: number): Promise<EventWait[]> {
    this.#q('DELETE FROM event_waits WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now)
    return this.#q('SELECT * FROM event_waits ORDER BY id')
      .all()
      .map((r) => ({
        id: Number(r.id),
        runId: r.run_id as string,
        signal: r.signal as string,
        pattern: r.pattern as string,
        ...(r.filter === null
          ? {}
          : (JSON.parse(r.filter as string) as Pick<EventWait, 'match' | 'condition'>)),
        createdAt: Number(r.created_at),
        ...(r.expires_at === null ? {} : { expiresAt: Number(r.expires_at) }),
      }))
  }

  async routePending(
    route: (event: CloudEvent, seq: number) => RoutePlan,
    now: number,
    limit = 1000,
  ): Promise<number> {
    let total = 0
    for (;;) {
      const rows = this.#q('SELECT * FROM events WHERE routed_at IS NULL ORDER BY seq LIMIT ?').all(limit)
      if (rows.length === 0) return total
      this.#tx(() => {
        for (const row of rows) {
          const stored = toStored(row)
          const plan = route(stored.event, stored.seq)
          this.#queueRuns(plan)
          this.#q('UPDATE events SET routed_at = ?, runs = ?, decision = ? WHERE seq = ?').run(
            now,
            plan.runs.length,
            JSON.stringify(plan.decision),
            stored.seq,
          )
        }
      })
      total += rows.length
    }
  }

  async recentEvents(filter: { type?: string; limit?: number; beforeSeq?: number }): Promise<StoredEvent[]> {
    const limit = filter.limit ?? 50
    const before = filter.beforeSeq ?? Number.MAX_SAFE_INTEGER
    const rows = filter.type
      ? this.#q('SELECT * FROM events WHERE type = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(
          filter.type,
          before,
          limit,
        )
      : this.#q('SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?').all(before, limit)
    return rows.map(toStored)
  }

  async getEvent(seq: number): Promise<StoredEvent | undefined> {
    const row = this.#q('SELECT * FROM events WHERE seq = ?').get(seq)
    return row ? toStored(row) : undefined
  }

  async routingDecision(
    eventSeq: number,
  ): Promise<{ decidedAt: number; matched: unknown[]; skipped: unknown[] } | undefined> {
    const row = this.#q('SELECT routed_at, decision FROM events WHERE seq = ?').get(eventSeq)
    if (!row || row.decision === null) return undefined
    const decision = JSON.parse(row.decision as string) as { matched: unknown[]; skipped: unknown[] }
    return { decidedAt: Number(row.routed_at), matched: decision.matched, skipped: decision.skipped }
  }

  async rejectEvent(record: Omit<RejectedEvent, 'id' | 'status' | 'replayedSeq'>): Promise<number> {
    const r = this.#q(
      'INSERT INTO rejected_events (received_at, type, source, event_id, body, reasons, via) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      record.receivedAt,
      record.type ?? null,
      record.source ?? null,
      record.eventId ?? null,
      JSON.stringify(record.body ?? null),
      JSON.stringify(record.reasons),
      record.via,
    )
    return Number(r.lastInsertRowid)
  }

  async listRejected(filter: { status?: 'rejected' | 'replayed'; limit?: number }): Promise<RejectedEvent[]> {
    const limit = filter.limit ?? 50
    const rows = filter.status
      ? this.#q('SELECT * FROM rejected_events WHERE status = ? ORDER BY id DESC LIMIT ?').all(
          filter.status,
          limit,
        )
      : this.#q('SELECT * FROM rejected_events ORDER BY id DESC LIMIT ?').all(limit)
    return rows.map(toRejected)
  }

  async getRejected(id: number): Promise<RejectedEvent | undefined> {
    const row = this.#q('SELECT * FROM rejected_events WHERE id = ?').get(id)
    return row ? toRejected(row) : undefined
  }

  async markReplayed(id: number, seq: number): Promise<void> {
    this.#q("UPDATE rejected_events SET status = 'replayed', replayed_seq = ? WHERE id = ?").run(seq, id)
  }

  async meshCounters(): Promise<MeshCounters> {
    const received = Number(this.#q('SELECT COUNT(*) AS n FROM events').get()!.n)
    const rejected = Number(this.#q('SELECT COUNT(*) AS n FROM rejected_events').get()!.n)
    const byType = this.#q(
      'SELECT type, COUNT(*) AS received, SUM(runs) AS triggered FROM events GROUP BY type ORDER BY received DESC, type',
    )
      .all()
      .map((r) => ({
        type: r.type as string,
        received: Number(r.received),
        triggered: Number(r.triggered ?? 0),
      }))
    const byWorkflow = this.#q(
      `SELECT workflow_id, COUNT(*) AS triggered, SUM(status = 'succeeded') AS succeeded,
              SUM(status IN ('failed', 'timed_out')) AS failed
       FROM workflow_executions WHERE json_extract(trigger, '$.type') = 'event' GROUP BY workflow_id ORDER BY workflow_id`,
    )
      .all()
      .map((r) => ({
        workflowId: r.workflow_id as string,
        triggered: Number(r.triggered),
        succeeded: Number(r.succeeded ?? 0),
        failed: Number(r.failed ?? 0),
      }))
    return {
      eventsReceived: received,
      eventsRejected: rejected,
      workflowsTriggered: byWorkflow.reduce((n, w) => n + w.triggered, 0),
      workflowsFailed: byWorkflow.reduce((n, w) => n + w.failed, 0),
      byType,
      byWorkflow,
    }
  }

  async sourceHash(workflowId: string): Promise<string | undefined> {
    const row = this.#q('SELECT source_hash FROM workflows WHERE id = ?').get(workflowId)
    return row?.source_hash === null || row === undefined ? undefined : (row.source_hash as string)
  }

  async setSourceHash(workflowId: string, hash: string): Promise<void> {
    this.#q('UPDATE workflows SET source_hash = ? WHERE id = ?').run(hash, workflowId)
  }
}
