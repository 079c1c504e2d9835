import type { ErrorRecord } from '../../core/errors.ts'
import type {
  ClaimedRun,
  CommitResult,
  NewRun,
  ProgressOp,
  RunFilter,
  RunRecord,
  RunSignal,
  RunStatus,
  StepAttemptRecord,
  Store,
  WorkerInfo,
  WorkflowStats,
  WorkflowSummary,
  WorkflowVersionRecord,
} from '../../core/store-port.ts'
import type { WorkflowDoc } from '../../core/workflow.ts'
import { applyMigrations, MIGRATIONS } from './migrations.ts'
import { runInserter } from './run-rows.ts'
import { immediateTransaction, StatementCache, turnTransaction } from './sqlite-statements.ts'
import {
  openSqlite,
  type Durability,
  type SqliteDb,
  type SqliteStatement,
  type SqlValue,
} from './sqlite-driver.ts'

type Row = Record<string, SqlValue>

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value))
const parse = <T>(text: SqlValue | undefined): T | undefined =>
  text === null || text === undefined ? undefined : (JSON.parse(text as string) as T)
const num = (v: SqlValue | undefined): number | undefined =>
  v === null || v === undefined ? undefined : Number(v)

function toRun(row: Row): RunRecord {
  const run: RunRecord = {
    id: row.id as string,
    workflowId: row.workflow_id as string,
    workflowVersion: Number(row.workflow_version),
    status: row.status as RunStatus,
    trigger: parse(row.trigger)!,
    inputs: parse(row.inputs)!,
    attempt: Number(row.attempt),
    isTest: row.is_test === 1,
    createdAt: Number(row.created_at),
  }
  if (row.output !== null) run.output = parse(row.output)
  if (row.error !== null) run.error = parse(row.error)
  if (row.started_at !== null) run.startedAt = num(row.started_at)
  if (row.ended_at !== null) run.endedAt = num(row.ended_at)
  if (row.duration_ms !== null) run.durationMs = num(row.duration_ms)
  if (row.deadline_at !== null) run.deadlineAt = num(row.deadline_at)
  if (row.control !== null) run.control = row.control as 'cancel' | 'pause'
  return run
}

function toAttempt(row: Row): StepAttemptRecord {
  const a: StepAttemptRecord = {
    runId: row.run_id as string,
    stepId: row.step_id as string,
    iteration: Number(row.iteration),
    attempt: Number(row.attempt),
    runAttempt: Number(row.run_attempt),
    status: row.status as StepAttemptRecord['status'],
    startedAt: Number(row.started_at),
  }
  if (row.input !== null) a.input = parse(row.input)
  if (row.output !== null) a.output = parse(row.output)
  if (row.error !== null) a.error = parse(row.error)
  if (row.detail !== null) a.detail = parse(row.detail)
  if (row.ended_at !== null) a.endedAt = num(row.ended_at)
  if (row.duration_ms !== null) a.durationMs = num(row.duration_ms)
  if (row.idempotency_key !== null) a.idempotencyKey = row.idempotency_key as string
  return a
}

function toStats(row: Row | undefined): WorkflowStats {
  const executions = Number(row?.executions ?? 0)
  const succeeded = Number(row?.succeeded ?? 0)
  const failed = Number(row?.failed ?? 0)
  const stats: WorkflowStats = {
    executions,
    succeeded,
    failed,
    averageRuntimeMs: executions > 0 ? Number(row?.total_duration_ms ?? 0) / executions : 0,
    successRate: executions > 0 ? succeeded / executions : 0,
  }
  if (row?.last_run_at != null) stats.lastRunAt = Number(row.last_run_at)
  if (row?.last_status != null) stats.lastStatus = row.last_status as RunStatus
  return stats
}

export interface SqliteStoreOptions {
  path: string
  durability?: Durability
}

/** The embedded store: one SQLite file in WAL mode. Statements are prepared once and reused. */
export class SqliteStore implements Store {
  readonly path: string
  #db: SqliteDb
  readonly #stmts: StatementCache

  constructor(options: SqliteStoreOptions) {
    this.path = options.path
    this.#db = openSqlite(options.path, options.durability ?? 'process')
    this.#stmts = new StatementCache(this.#db)
  }

  /** The open connection, for the sub-stores of other areas (audit, mesh) that share this file and its transactions' thread. */
  get handle(): SqliteDb {
    return this.#db
  }

  #q(sql: string): SqliteStatement {
    return this.#stmts.q(sql)
  }

  #tx<T>(fn: () => T): T {
    return immediateTransaction(this.#db, fn)
  }

  /** Applies the migrations of every area not yet recorded (see `applyMigrations`). */
  async migrate(): Promise<{ applied: string[]; version: number }> {
    return applyMigrations(this.#db, MIGRATIONS, this.path)
  }

  async close(): Promise<void> {
    this.#stmts.clear()
    this.#db.close()
  }

  // ---------------------------------------------------------------- workflows

  async putWorkflowVersion(
    doc: WorkflowDoc,
    meta: { hash: string; author: string; sourcePath?: string; now: number },
  ): Promise<{ version: number; created: boolean }> {
    return this.#tx(() => {
      const existing = this.#q('SELECT latest_version FROM workflows WHERE id = ?').get(doc.id)
      if (existing) {
        const latest = Number(existing.latest_version)
        const row = this.#q('SELECT hash FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(
          doc.id,
          latest,
        )
        if (row?.hash === meta.hash) return { version: latest, created: false }
      }
      const version = existing ? Number(existing.latest_version) + 1 : 1
      const definition = { ...doc, version }
      if (existing) {
        this.#q(
          'UPDATE workflows SET name = ?, latest_version = ?, source_path = ?, updated_at = ? WHERE id = ?',
        ).run(doc.name ?? null, version, meta.sourcePath ?? null, meta.now, doc.id)
      } else {
        this.#q(
          'INSERT INTO workflows (id, name, latest_version, enabled, source_path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).run(
          doc.id,
          doc.name ?? null,
          version,
          doc.enabled === false ? 0 : 1,
          meta.sourcePath ?? null,
          meta.now,
          meta.now,
        )
      }
      this.#q(
        'INSERT INTO workflow_versions (workflow_id, version, hash, definition, author, source_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(
        doc.id,
        version,
        meta.hash,
        JSON.stringify(definition),
        meta.author,
        meta.sourcePath ?? null,
        meta.now,
      )
      this.#q('DELETE FROM workflow_triggers WHERE workflow_id = ?').run(doc.id)
      for (const [idx, trigger] of (doc.triggers ?? []).entries()) {
        this.#q(
          'INSERT INTO workflow_triggers (workflow_id, idx, version, type, config, enabled, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)',
        ).run(doc.id, idx, version, trigger.type, JSON.stringify(trigger), meta.now)
      }
      return { version, created: true }
    })
  }

  async getWorkflowVersion(id: string, version?: number): Promise<WorkflowVersionRecord | undefined> {
    const row =
      version === undefined
        ? this.#q(
            'SELECT v.* FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id AND w.latest_version = v.version WHERE w.id = ?',
          ).get(id)
        : this.#q('SELECT * FROM workflow_versions WHERE workflow_id = ? AND version = ?').get(id, version)
    if (!row) return undefined
    const record: WorkflowVersionRecord = {
      workflowId: row.workflow_id as string,
      version: Number(row.version),
      hash: row.hash as string,
      definition: JSON.parse(row.definition as string) as WorkflowDoc,
      author: row.author as string,
      createdAt: Number(row.created_at),
    }
    if (row.source_path !== null) record.sourcePath = row.source_path as string
    return record
  }

  async listWorkflowVersions(id: string): Promise<Omit<WorkflowVersionRecord, 'definition'>[]> {
    return this.#q(
      'SELECT workflow_id, version, hash, author, source_path, created_at FROM workflow_versions WHERE workflow_id = ? ORDER BY version DESC',
    )
      .all(id)
      .map((row) => ({
        workflowId: row.workflow_id as string,
        version: Number(row.version),
        hash: row.hash as string,
        author: row.author as string,
        createdAt: Number(row.created_at),
        ...(row.source_path !== null ? { sourcePath: row.source_path as string } : {}),
      }))
  }

  async listWorkflows(): Promise<WorkflowSummary[]> {
    return this.#q(
      `SELECT w.*, s.executions, s.succeeded, s.failed, s.total_duration_ms, s.last_run_at, s.last_status
       FROM workflows w LEFT JOIN workflow_stats s ON s.workflow_id = w.id ORDER BY w.id`,
    )
      .all()
      .map((row) => {
        const summary: WorkflowSummary = {
          id: row.id as string,
          latestVersion: Number(row.latest_version),
          enabled: row.enabled === 1,
          updatedAt: Number(row.updated_at),
          stats: toStats(row),
        }
        if (row.name !== null) summary.name = row.name as string
        if (row.source_path !== null) summary.sourcePath = row.source_path as string
        return summary
      })
  }

  async setWorkflowEnabled(id: string, enabled: boolean, now: number): Promise<boolean> {
    const r = this.#q('UPDATE workflows SET enabled = ?, updated_at = ? WHERE id = ?').run(
      enabled ? 1 : 0,
      now,
      id,
    )
    return Number(r.changes) > 0
  }

  // ---------------------------------------------------------------- runs

  async enqueueRuns(runs: NewRun[]): Promise<void> {
    this.#insertRun ??= runInserter(this.#db)
    const insert = this.#insertRun
    this.#tx(() => {
      for (const run of runs) insert(run)
    })
  }

  #insertRun: ((run: NewRun) => void) | undefined

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.#q('SELECT * FROM workflow_executions WHERE id = ?').get(id)
    return row ? toRun(row) : undefined
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = []
    const params: SqlValue[] = []
    if (filter.workflowId) {
      where.push('workflow_id = ?')
      params.push(filter.workflowId)
    }
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`)
      params.push(...filter.status)
    }
    if (filter.before) {
      where.push('id < ?')
      params.push(filter.before)
    }
    const sql = `SELECT * FROM workflow_executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    params.push(filter.limit ?? 50)
    return this.#db
      .prepare(sql)
      .all(...params)
      .map(toRun)
  }

  async listStepAttempts(runId: string): Promise<StepAttemptRecord[]> {
    return this.#q(
      'SELECT * FROM step_executions WHERE run_id = ? ORDER BY started_at, step_id, iteration, attempt',
    )
      .all(runId)
      .map(toAttempt)
  }

  // ---------------------------------------------------------------- worker side

  async registerWorker(w: WorkerInfo): Promise<void> {
    this.#q(
      'INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at',
    ).run(w.id, w.host, w.pid, w.startedAt, w.heartbeatAt)
  }

  async unregisterWorker(id: string): Promise<void> {
    this.#q('DELETE FROM workers WHERE id = ?').run(id)
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    return this.#q('SELECT * FROM workers ORDER BY started_at')
      .all()
      .map((r) => ({
        id: r.id as string,
        host: r.host as string,
        pid: Number(r.pid),
        startedAt: Number(r.started_at),
        heartbeatAt: Number(r.heartbeat_at),
      }))
  }

  async claimRuns(
    owner: string,
    limit: number,
    now: number,
    leaseMs: number,
    onlyRunIds?: readonly string[],
  ): Promise<ClaimedRun[]> {
    const only = onlyRunIds ? 'AND run_id IN (SELECT value FROM json_each(?))' : ''
    // a claimed run's available_at moves to its lease expiry: leased runs are not due, so the scan
    // below reads due rows only, and a run whose lease lapses becomes due again by itself
    const params: SqlValue[] = [owner, now + leaseMs, now + leaseMs, now]
    if (onlyRunIds) params.push(JSON.stringify(onlyRunIds))
    params.push(limit)
    return this.#tx(() => {
      const ids = this.#q(
        `UPDATE run_queue SET lease_owner = ?, lease_expires_at = ?, available_at = ?
         WHERE run_id IN (SELECT run_id FROM run_queue WHERE available_at <= ? ${only} ORDER BY available_at LIMIT ?)
         RETURNING run_id`,
      )
        .all(...params)
        .map((r) => r.run_id as string)
      if (ids.length === 0) return []
      const rows = this.#claimStatement().all(now, JSON.stringify(ids)) as unknown as SqlValue[][]
      const columns = this.#claimColumns!
      const claimed: ClaimedRun[] = []
      for (const values of rows) {
        const row: Row = {}
        for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i]!
        const run = toRun(row)
        const fresh = Number(row.claim_count) === 1 && run.attempt === 1
        claimed.push({
          run,
          attempts: fresh
            ? []
            : this.#q('SELECT * FROM step_executions WHERE run_id = ?').all(run.id).map(toAttempt),
          signals: fresh ? [] : this.#pendingSignals(run.id),
        })
      }
      return claimed
    })
  }

  #claimColumns: string[] | undefined
  /** A statement whose rows come back as arrays. */
  #arrays(sql: string): SqliteStatement {
    return this.#stmts.arrays(sql)
  }

  /** The claim's RETURNING rows come back as arrays: building a row object per column is the slow part of node:sqlite reads. */
  #claimStatement(): SqliteStatement {
    const stmt = this.#stmts.arrays(
      `UPDATE workflow_executions SET status = 'running', claim_count = claim_count + 1, started_at = COALESCE(started_at, ?)
         WHERE id IN (SELECT value FROM json_each(?)) RETURNING *`,
    )
    this.#claimColumns ??= stmt.columns().map((c) => c.name)
    return stmt
  }

  #pendingSignals(runId: string): RunSignal[] {
    return this.#q('SELECT * FROM run_signals WHERE run_id = ? AND consumed_at IS NULL ORDER BY id')
      .all(runId)
      .map((r) => ({
        id: Number(r.id),
        runId: r.run_id as string,
        name: r.name as string,
        payload: parse(r.payload),
        createdAt: Number(r.created_at),
      }))
  }

  async listPendingSignals(runId: string): Promise<RunSignal[]> {
    return this.#pendingSignals(runId)
  }

  async renewLeases(owner: string, now: number, leaseMs: number): Promise<void> {
    this.#tx(() => {
      this.#q('UPDATE run_queue SET lease_expires_at = ?1, available_at = ?1 WHERE lease_owner = ?2').run(
        now + leaseMs,
        owner,
      )
      this.#q('UPDATE workers SET heartbeat_at = ? WHERE id = ?').run(now, owner)
    })
  }

  async releaseLeases(owners: readonly string[]): Promise<number> {
    if (owners.length === 0) return 0
    return this.#tx(() => {
      const r = this.#q(
        'UPDATE run_queue SET lease_owner = NULL, lease_expires_at = NULL, available_at = 0 WHERE lease_owner IN (SELECT value FROM json_each(?))',
      ).run(JSON.stringify(owners))
      this.#q('DELETE FROM workers WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(owners))
      return Number(r.changes)
    })
  }

  async releaseOwner(owner: string): Promise<void> {
    this.#tx(() => {
      this.#q(
        `UPDATE workflow_executions SET status = 'queued'
         WHERE status = 'running' AND id IN (SELECT run_id FROM run_queue WHERE lease_owner = ?)`,
      ).run(owner)
      this.#q(
        'UPDATE run_queue SET lease_owner = NULL, lease_expires_at = NULL, available_at = 0 WHERE lease_owner = ?',
      ).run(owner)
      this.#q('DELETE FROM workers WHERE id = ?').run(owner)
    })
  }

  schedule(flush: () => void): void {
    turnTransaction(this.#db).collect(flush)
  }

  async commitProgress(owner: string, ops: readonly ProgressOp[]): Promise<CommitResult> {
    if (ops.length === 0) return { lostRuns: [] }
    const runIds = new Set<string>()
    for (const op of ops)
      if (op.op !== 'signal_consumed') runIds.add(op.op === 'attempt' ? op.row.runId : op.runId)
    // in the turn's shared transaction, with the ingest's event batch of the same turn
    return turnTransaction(this.#db).run(() => {
      const held = new Set<string>()
      for (const [runId] of this.#arrays(
        'SELECT run_id FROM run_queue WHERE lease_owner = ? AND run_id IN (SELECT value FROM json_each(?))',
      ).all(owner, JSON.stringify([...runIds])) as unknown as Array<[string]>)
        held.add(runId)
      const lost = [...runIds].filter((id) => !held.has(id))
      const stats = new Map<
        string,
        { n: number; ok: number; bad: number; ms: number; last: number; status: string }
      >()
      for (const op of ops) {
        switch (op.op) {
          case 'attempt': {
            if (!held.has(op.row.runId)) break
            const r = op.row
            this.#q(
              `INSERT INTO step_executions (run_id, step_id, iteration, attempt, run_attempt, status, input, output, error, detail, started_at, ended_at, duration_ms, idempotency_key)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (run_id, step_id, iteration, attempt) DO UPDATE SET status = excluded.status, input = excluded.input,
                 output = excluded.output, error = excluded.error, detail = excluded.detail, ended_at = excluded.ended_at, duration_ms = excluded.duration_ms`,
            ).run(
              r.runId,
              r.stepId,
              r.iteration,
              r.attempt,
              r.runAttempt,
              r.status,
              json(r.input),
              json(r.output),
              json(r.error),
              json(r.detail),
              r.startedAt,
              r.endedAt ?? null,
              r.durationMs ?? null,
              r.idempotencyKey ?? null,
            )
            break
          }
          case 'run_started':
            if (!held.has(op.runId)) break
            this.#q(
              'UPDATE workflow_executions SET started_at = COALESCE(started_at, ?), deadline_at = COALESCE(deadline_at, ?) WHERE id = ?',
            ).run(op.startedAt, op.deadlineAt ?? null, op.runId)
            break
          case 'run_finished': {
            if (!held.has(op.runId)) break
            this.#q('DELETE FROM run_queue WHERE run_id = ?').run(op.runId)
            this.#q(
              'UPDATE workflow_executions SET status = ?, output = ?, error = ?, ended_at = ?, duration_ms = ?, control = NULL WHERE id = ?',
            ).run(op.status, json(op.output), json(op.error), op.endedAt, op.durationMs, op.runId)
            const s = stats.get(op.workflowId) ?? { n: 0, ok: 0, bad: 0, ms: 0, last: 0, status: '' }
            s.n++
            if (op.status === 'succeeded') s.ok++
            else s.bad++
            s.ms += op.durationMs
            if (op.endedAt >= s.last) {
              s.last = op.endedAt
              s.status = op.status
            }
            stats.set(op.workflowId, s)
            break
          }
          case 'run_parked':
            if (!held.has(op.runId)) break
            if (op.status === 'paused') this.#q('DELETE FROM run_queue WHERE run_id = ?').run(op.runId)
            else
              // a signal that arrived while the run was still held makes it due at once
              this.#q(
                `UPDATE run_queue SET lease_owner = NULL, lease_expires_at = NULL,
                   available_at = CASE WHEN EXISTS (SELECT 1 FROM run_signals WHERE run_id = ?1 AND consumed_at IS NULL) THEN ?2 ELSE ?3 END
                 WHERE run_id = ?1`,
              ).run(op.runId, Date.now(), op.wakeAt ?? Number.MAX_SAFE_INTEGER)
            this.#q('UPDATE workflow_executions SET status = ?, control = NULL WHERE id = ?').run(
              op.status,
              op.runId,
            )
            break
          case 'signal_consumed':
            this.#q('UPDATE run_signals SET consumed_at = ? WHERE id = ?').run(Date.now(), op.signalId)
            break
        }
      }
      for (const [workflowId, s] of stats) {
        this.#q(
          `INSERT INTO workflow_stats (workflow_id, executions, succeeded, failed, total_duration_ms, last_run_at, last_status)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (workflow_id) DO UPDATE SET executions = executions + excluded.executions, succeeded = succeeded + excluded.succeeded,
             failed = failed + excluded.failed, total_duration_ms = total_duration_ms + excluded.total_duration_ms,
             last_run_at = MAX(COALESCE(last_run_at, 0), excluded.last_run_at),
             last_status = CASE WHEN excluded.last_run_at >= COALESCE(last_run_at, 0) THEN excluded.last_status ELSE last_status END`,
        ).run(workflowId, s.n, s.ok, s.bad, s.ms, s.last, s.status)
      }
      return { lostRuns: lost }
    })
  }

  async pendingControls(owner: string): Promise<Array<{ runId: string; control: 'cancel' | 'pause' }>> {
    return this.#q(
      `SELECT e.id, e.control FROM workflow_executions e JOIN run_queue q ON q.run_id = e.id
       WHERE q.lease_owner = ? AND e.control IS NOT NULL`,
    )
      .all(owner)
      .map((r) => ({ runId: r.id as string, control: r.control as 'cancel' | 'pause' }))
  }

  async changeToken(): Promise<number> {
    return Number(this.#q('PRAGMA data_version').get()!.data_version)
  }

  // ---------------------------------------------------------------- control from any process

  #leased(runId: string, now: number): boolean {
    const row = this.#q('SELECT lease_owner, lease_expires_at FROM run_queue WHERE run_id = ?').get(runId)
    return row !== undefined && row.lease_owner !== null && Number(row.lease_expires_at) >= now
  }

  async requestControl(runId: string, control: 'cancel' | 'pause', now: number): Promise<boolean> {
    return this.#tx(() => {
      if (!this.#leased(runId, now)) return false
      this.#q('UPDATE workflow_executions SET control = ? WHERE id = ?').run(control, runId)
      return true
    })
  }

  async finishUnleasedRun(
    runId: string,
    status: 'cancelled',
    now: number,
    error?: ErrorRecord,
  ): Promise<boolean> {
    return this.#tx(() => {
      if (this.#leased(runId, now)) return false
      const run = this.#q('SELECT status, started_at, workflow_id FROM workflow_executions WHERE id = ?').get(
        runId,
      )
      if (!run || !['queued', 'waiting', 'paused', 'running'].includes(run.status as string)) return false
      this.#q('DELETE FROM run_queue WHERE run_id = ?').run(runId)
      const started = num(run.started_at)
      this.#q(
        'UPDATE workflow_executions SET status = ?, error = ?, ended_at = ?, duration_ms = ?, control = NULL WHERE id = ?',
      ).run(status, json(error), now, started === undefined ? 0 : now - started, runId)
      this.#q(
        "UPDATE step_executions SET status = 'cancelled', ended_at = ? WHERE run_id = ? AND status IN ('running', 'waiting')",
      ).run(now, runId)
      return true
    })
  }

  async pauseUnleasedRun(runId: string, now: number): Promise<boolean> {
    return this.#tx(() => {
      if (this.#leased(runId, now)) return false
      const run = this.#q('SELECT status FROM workflow_executions WHERE id = ?').get(runId)
      if (!run || !['queued', 'waiting'].includes(run.status as string)) return false
      this.#q('DELETE FROM run_queue WHERE run_id = ?').run(runId)
      this.#q("UPDATE workflow_executions SET status = 'paused', control = NULL WHERE id = ?").run(runId)
      return true
    })
  }

  async resumeRun(runId: string, now: number): Promise<boolean> {
    return this.#tx(() => {
      const r = this.#q(
        "UPDATE workflow_executions SET status = 'queued', control = NULL WHERE id = ? AND status = 'paused'",
      ).run(runId)
      if (Number(r.changes) === 0) return false
      this.#q('INSERT OR REPLACE INTO run_queue (run_id, available_at) VALUES (?, ?)').run(runId, now)
      return true
    })
  }

  async retryRun(runId: string, now: number): Promise<boolean> {
    return this.#tx(() => {
      const r = this.#q(
        `UPDATE workflow_executions SET status = 'queued', attempt = attempt + 1, output = NULL, error = NULL, ended_at = NULL,
           duration_ms = NULL, deadline_at = NULL, control = NULL
         WHERE id = ? AND status IN ('failed', 'cancelled', 'timed_out')`,
      ).run(runId)
      if (Number(r.changes) === 0) return false
      this.#q('INSERT OR REPLACE INTO run_queue (run_id, available_at) VALUES (?, ?)').run(runId, now)
      return true
    })
  }

  async deliverSignal(runId: string, name: string, payload: unknown, now: number): Promise<number> {
    return this.#tx(() => {
      const r = this.#q(
        'INSERT INTO run_signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)',
      ).run(runId, name, json(payload), now)
      this.#q('UPDATE run_queue SET available_at = ? WHERE run_id = ? AND lease_owner IS NULL').run(
        now,
        runId,
      )
      return Number(r.lastInsertRowid)
    })
  }
}
