import type { SqliteDb, SqliteStatement } from './sqlite-driver.ts'

/**
 * Prepared statements, compiled once per SQL text and reused: `q(sql)` returns rows as objects,
 * `arrays(sql)` as arrays (cheaper: no object per row).
 */
export class StatementCache {
  readonly #db: SqliteDb
  readonly #objects = new Map<string, SqliteStatement>()
  readonly #arrays = new Map<string, SqliteStatement>()

  constructor(db: SqliteDb) {
    this.#db = db
  }

  q(sql: string): SqliteStatement {
    let stmt = this.#objects.get(sql)
    if (!stmt) {
      stmt = this.#db.prepare(sql)
      this.#objects.set(sql, stmt)
    }
    return stmt
  }

  arrays(sql: string): SqliteStatement {
    let stmt = this.#arrays.get(sql)
    if (!stmt) {
      stmt = this.#db.prepare(sql)
      stmt.setReturnArrays(true)
      this.#arrays.set(sql, stmt)
    }
    return stmt
  }

  clear(): void {
    this.#objects.clear()
    this.#arrays.clear()
  }
}

/** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (rolled back if it throws). */
export function immediateTransaction<T>(db: SqliteDb, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

interface TurnPart {
  fn: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/**
 * One write transaction per event-loop turn for the hot writers of a connection (the ingest's
 * event batches and the engine's group commits): what each asks for within a turn is run at the
 * next `setImmediate`, each part inside its own savepoint of one `BEGIN IMMEDIATE … COMMIT`, and
 * each caller's promise settles once that transaction is committed. A part that throws is rolled
 * back to its savepoint and only its caller sees the error; a failed commit fails every part.
 * Sharing the commit halves the transactions of an event-driven workload, and the pages both
 * writers touch (the newest runs, the queue) are written to the WAL once instead of twice.
 */
export class TurnTransaction {
  readonly #db: SqliteDb
  #parts: TurnPart[] = []
  #collectors: Array<() => void> = []
  #scheduled = false
  #collecting = false
  /** Transactions written, for tests and benchmarks. */
  commits = 0

  constructor(db: SqliteDb) {
    this.#db = db
  }

  /** Runs `fn` inside the next turn's transaction; resolves with its result once committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#parts.push({ fn, resolve: resolve as (value: unknown) => void, reject })
      this.#schedule()
    })
  }

  /**
   * Calls `flush` at the start of the next turn, before its transaction is assembled: the writes
   * `flush` asks for synchronously (through `run`) join that transaction. This is how the ingest and
   * the engine's group commit flush in the same turn as each other without an extra hop.
   */
  collect(flush: () => void): void {
    this.#collectors.push(flush)
    this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled || this.#collecting) return
    this.#scheduled = true
    setImmediate(() => this.#write())
  }

  #write(): void {
    this.#scheduled = false
    if (this.#collectors.length > 0) {
      const collectors = this.#collectors
      this.#collectors = []
      this.#collecting = true
      try {
        for (const flush of collectors) {
          try {
            flush()
          } catch {
            // a collector reports its own failures to its callers; the others still write
          }
        }
      } finally {
        this.#collecting = false
      }
      // a collector that asked again while collecting goes in the next turn
      if (this.#collectors.length > 0) this.#schedule()
    }
    const parts = this.#parts
    if (parts.length === 0) return
    this.#parts = []
    if (parts.length === 1) {
      const part = parts[0]!
      try {
        const value = immediateTransaction(this.#db, part.fn)
        this.commits++
        part.resolve(value)
      } catch (err) {
        part.reject(err)
      }
      return
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = []
    try {
      this.#db.exec('BEGIN IMMEDIATE')
      for (const part of parts) {
        this.#db.exec('SAVEPOINT turn_part')
        try {
          outcomes.push({ ok: true, value: part.fn() })
          this.#db.exec('RELEASE turn_part')
        } catch (err) {
          this.#db.exec('ROLLBACK TO turn_part')
          this.#db.exec('RELEASE turn_part')
          outcomes.push({ ok: false, err })
        }
      }
      this.#db.exec('COMMIT')
      this.commits++
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      for (const part of parts) part.reject(err)
      return
    }
    parts.forEach((part, i) => {
      const outcome = outcomes[i]!
      if (outcome.ok) part.resolve(outcome.value)
      else part.reject(outcome.err)
    })
  }
}

const turns = new WeakMap<SqliteDb, TurnTransaction>()

/** The connection's `TurnTransaction` (one per connection, shared by every store class on it). */
export function turnTransaction(db: SqliteDb): TurnTransaction {
  let turn = turns.get(db)
  if (!turn) {
    turn = new TurnTransaction(db)
    turns.set(db, turn)
  }
  return turn
}
