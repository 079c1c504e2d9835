import { DatabaseSync } from 'node:sqlite'

/** The few methods of `node:sqlite` the store uses; nothing else in the code base imports the driver. */
export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint }
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined
  all(...params: SqlValue[]): Array<Record<string, SqlValue>>
  /** Rows as arrays (no per-row object): faster for hot reads. */
  setReturnArrays(enabled: boolean): void
  columns(): Array<{ name: string }>
}

export type SqlValue = string | number | bigint | null | Uint8Array

export interface SqliteDb {
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  close(): void
  readonly isTransaction: boolean
}

/** Durability levels of DESIGN.md: `process` survives kill -9 (WAL, synchronous=NORMAL); `host` survives power loss. */
export type Durability = 'process' | 'host'

export function openSqlite(path: string, durability: Durability): SqliteDb {
  const db = new DatabaseSync(path, { timeout: 5000 }) as unknown as SqliteDb
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA synchronous = ${durability === 'host' ? 'FULL' : 'NORMAL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA temp_store = MEMORY')
  db.exec('PRAGMA cache_size = -65536')
  return db
}
