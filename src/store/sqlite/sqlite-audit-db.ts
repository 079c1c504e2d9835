import { AUDIT_MIGRATIONS } from './audit-migrations.ts'
import { applyMigrations } from './migrations.ts'
import { openSqlite, type Durability, type SqliteDb } from './sqlite-driver.ts'
import { immediateTransaction } from './sqlite-statements.ts'

/**
 * The audit log's own SQLite file (`<data dir>/audit.db`), apart from the store: its writer (a worker
 * thread in `serve`, see docs/audit.md) never contends with the engine's and the ingest's for the
 * store's write lock. Opens it with the store's pragmas and applies the audit migrations.
 */
export function openAuditDb(path: string, durability: Durability): SqliteDb {
  const db = openSqlite(path, durability)
  applyMigrations(db, AUDIT_MIGRATIONS, path)
  return db
}

/**
 * Stores made before the audit log had its own file kept it in the store's `audit_log` and
 * `audit_checkpoints` tables. Moves such entries into the audit file once (when the audit file is
 * still empty), in one transaction on each side; returns the number of entries moved.
 */
export function moveLegacyAudit(store: SqliteDb, auditPath: string): number {
  const legacy = store
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'")
    .get()
  if (!legacy) return 0
  const count = Number((store.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n)
  if (count === 0) return 0
  const audit = openSqlite(auditPath, 'process')
  try {
    applyMigrations(audit, AUDIT_MIGRATIONS, auditPath)
    const existing = Number((audit.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n)
    if (existing > 0) return 0
  } finally {
    audit.close()
  }
  store.prepare('ATTACH DATABASE ? AS audit_file').run(auditPath)
  try {
    immediateTransaction(store, () => {
      store.exec('INSERT INTO audit_file.audit_log SELECT * FROM main.audit_log ORDER BY seq')
      store.exec('INSERT INTO audit_file.audit_checkpoints SELECT * FROM main.audit_checkpoints')
      store.exec('DELETE FROM main.audit_log; DELETE FROM main.audit_checkpoints')
    })
  } finally {
    store.exec('DETACH DATABASE audit_file')
  }
  return count
}
