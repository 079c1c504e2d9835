import {
  AuditAppendConflict,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditFilter,
  type AuditRecord,
  type AuditStore,
  type StoredCheckpoint,
} from '../../core/audit-port.ts'
import { StatementCache } from './sqlite-statements.ts'
import type { SqliteDb, SqliteStatement, SqlValue } from './sqlite-driver.ts'

const COLUMNS = 'seq, type, at, actor, workflow_id, run_id, event_id, component, data, prev_hash, hash'
const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
/** Rows bound per INSERT statement. */
const CHUNK = 32

/** A row of `COLUMNS` as an array (statements return arrays: no object per row). */
function toEntry(row: SqlValue[]): AuditEntry {
  // members in reading order; absent ones are left out (not undefined), as they were written
  return {
    seq: Number(row[0]),
    type: row[1] as string,
    at: Number(row[2]),
    ...(row[3] === null ? {} : { actor: row[3] as string }),
    ...(row[4] === null ? {} : { workflowId: row[4] as string }),
    ...(row[5] === null ? {} : { runId: row[5] as string }),
    ...(row[6] === null ? {} : { eventId: row[6] as string }),
    ...(row[7] === null ? {} : { component: row[7] as string }),
    ...(row[8] === null ? {} : { data: JSON.parse(row[8] as string) as unknown }),
    prevHash: row[9] as string,
    hash: row[10] as string,
  }
}

function toCheckpoint(row: SqlValue[]): AuditCheckpoint {
  return {
    treeSize: Number(row[0]),
    rootHash: row[1] as string,
    at: Number(row[2]),
    keyId: row[3] as string,
    signature: row[4] as string,
  }
}

/**
 * The audit log's tables, on the connection of `SqliteStore` (`new SqliteAuditStore(store.handle)`).
 * Appends are one `BEGIN IMMEDIATE` transaction that first checks the chain's tail, so two processes
 * appending to one file never fork the chain: the loser gets `AuditAppendConflict` and re-chains.
 */
export class SqliteAuditStore implements AuditStore {
  readonly #db: SqliteDb
  readonly #stmts: StatementCache

  constructor(db: SqliteDb) {
    this.#db = db
    this.#stmts = new StatementCache(db)
  }

  /** A cached statement returning rows as arrays. */
  #q(sql: string): SqliteStatement {
    return this.#stmts.arrays(sql)
  }

  /** An insert of `rows` entries in one statement (binding many rows per call is what makes appends cheap). */
  #insert(rows: number): SqliteStatement {
    return this.#q(
      `INSERT INTO audit_log (${COLUMNS}) VALUES ${Array.from({ length: rows }, () => ROW).join(', ')}`,
    )
  }

  async appendAudit(entries: readonly AuditRecord[]): Promise<void> {
    if (entries.length === 0) return
    // a transaction of someone else on the shared connection must never be joined or rolled back here
    if (this.#db.isTransaction)
      throw new Error('audit append inside another transaction on the same connection')
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      const tail = this.#q('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as unknown as
        [number, string] | undefined
      const lastSeq = tail ? Number(tail[0]) : 0
      const first = entries[0]!
      if (first.seq !== lastSeq + 1 || (tail && first.prevHash !== tail[1])) {
        throw new AuditAppendConflict(first.seq, lastSeq)
      }
      const params: SqlValue[] = []
      for (let i = 0; i < entries.length;) {
        const rows = entries.length - i >= CHUNK ? CHUNK : 1
        params.length = 0
        for (let j = i; j < i + rows; j++) {
          const e = entries[j]!
          params.push(
            e.seq,
            e.type,
            e.at,
            e.actor ?? null,
            e.workflowId ?? null,
            e.runId ?? null,
            e.eventId ?? null,
            e.component ?? null,
            e.dataJson ?? null,
            e.prevHash,
            e.hash,
          )
        }
        this.#insert(rows).run(...params)
        i += rows
      }
      this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw err
    }
  }

  async lastAudit(): Promise<AuditEntry | undefined> {
    const row = this.#q(`SELECT ${COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1`).get()
    return row ? toEntry(row as unknown as SqlValue[]) : undefined
  }

  async readAudit(fromSeq: number, limit: number): Promise<AuditEntry[]> {
    const rows = this.#q(`SELECT ${COLUMNS} FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`).all(
      fromSeq,
      limit,
    )
    return (rows as unknown as SqlValue[][]).map(toEntry)
  }

  async queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = []
    const params: SqlValue[] = []
    if (filter.type !== undefined) {
      if (typeof filter.type === 'string') {
        where.push('type = ?')
        params.push(filter.type)
      } else {
        where.push('type IN (SELECT value FROM json_each(?))')
        params.push(JSON.stringify(filter.type))
      }
    }
    const equal: Array<[string, string | undefined]> = [
      ['workflow_id', filter.workflowId],
      ['run_id', filter.runId],
      ['component', filter.component],
    ]
    for (const [column, value] of equal) {
      if (value === undefined) continue
      where.push(`${column} = ?`)
      params.push(value)
    }
    const range: Array<[string, number | undefined]> = [
      ['at >= ?', filter.since],
      ['at < ?', filter.until],
      ['seq > ?', filter.afterSeq],
      ['seq < ?', filter.beforeSeq],
    ]
    for (const [clause, value] of range) {
      if (value === undefined) continue
      where.push(clause)
      params.push(value)
    }
    params.push(filter.limit ?? -1)
    const sql = `SELECT ${COLUMNS} FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq ${filter.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`
    return (this.#q(sql).all(...params) as unknown as SqlValue[][]).map(toEntry)
  }

  async auditCount(): Promise<number> {
    return Number((this.#q('SELECT count(*) FROM audit_log').get() as unknown as SqlValue[])[0])
  }

  async putCheckpoint(c: AuditCheckpoint, range?: readonly string[]): Promise<void> {
    this.#q(
      `INSERT INTO audit_checkpoints (tree_size, root_hash, at, key_id, signature, compact_range)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tree_size) DO NOTHING`,
    ).run(c.treeSize, c.rootHash, c.at, c.keyId, c.signature, range ? JSON.stringify(range) : null)
  }

  async listCheckpoints(): Promise<AuditCheckpoint[]> {
    const rows = this.#q(
      'SELECT tree_size, root_hash, at, key_id, signature FROM audit_checkpoints ORDER BY tree_size',
    ).all()
    return (rows as unknown as SqlValue[][]).map(toCheckpoint)
  }

  async lastCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const row = this.#q(
      `SELECT tree_size, root_hash, at, key_id, signature, compact_range FROM audit_checkpoints
       ORDER BY tree_size DESC LIMIT 1`,
    ).get() as unknown as SqlValue[] | undefined
    if (!row) return undefined
    const stored: StoredCheckpoint = { checkpoint: toCheckpoint(row) }
    if (row[5] !== null) stored.range = JSON.parse(row[5] as string) as string[]
    return stored
  }
}
