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
