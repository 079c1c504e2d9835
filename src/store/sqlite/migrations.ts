/**
 * SQLite schema migrations, applied in order inside one transaction each and recorded in
 * `schema_migrations`. Never edit a shipped migration: add a new one.
 */
import { HsError } from '../../core/errors.ts'
import { TRIGGER_MIGRATIONS } from './trigger-migrations.ts'
import { AUDIT_MIGRATIONS } from './audit-migrations.ts'
import { CHAT_MIGRATIONS } from './chat-migrations.ts'
import { MESH_MIGRATIONS } from './mesh-migrations.ts'
import { SECRET_MIGRATIONS } from './secret-migrations.ts'
import { USAGE_MIGRATIONS } from './usage-migrations.ts'
import type { SqliteDb } from './sqlite-driver.ts'
import { immediateTransaction } from './sqlite-statements.ts'

export interface Migration {
  version: number
  name: string
  sql: string
}

/** The core tables: workflows, runs, step attempts, queue. */
export const CORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'workflows, runs, step attempts, queue',
    sql: `
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  name TEXT,
  latest_version INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  source_path TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE workflow_versions (
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  author TEXT NOT NULL,
  source_path TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
);
CREATE TABLE workflow_triggers (
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  idx INTEGER NOT NULL,
  version INTEGER NOT NULL,
  type TEXT NOT NULL,
  config TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, idx)
);
CREATE TABLE workflow_stats (
  workflow_id TEXT PRIMARY KEY,
  executions INTEGER NOT NULL DEFAULT 0,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  total_duration_ms INTEGER NOT NULL DEFAULT 0,
  last_run_at INTEGER,
  last_status TEXT
);
CREATE TABLE workflow_executions (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  inputs TEXT NOT NULL,
  output TEXT,
  error TEXT,
  attempt INTEGER NOT NULL DEFAULT 1,
  claim_count INTEGER NOT NULL DEFAULT 0,
  control TEXT,
  is_test INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  duration_ms INTEGER,
  deadline_at INTEGER
);
CREATE INDEX workflow_executions_by_workflow ON workflow_executions (workflow_id, id DESC);
CREATE TABLE step_executions (
  run_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  iteration INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  run_attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error TEXT,
  detail TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  duration_ms INTEGER,
  idempotency_key TEXT,
  PRIMARY KEY (run_id, step_id, iteration, attempt)
) WITHOUT ROWID;
CREATE TABLE run_queue (
  run_id TEXT PRIMARY KEY,
  available_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX run_queue_due ON run_queue (available_at);
CREATE TABLE run_signals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  payload TEXT,
  created_at INTEGER NOT NULL,
  consumed_at INTEGER
);
CREATE INDEX run_signals_pending ON run_signals (run_id) WHERE consumed_at IS NULL;
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
`,
  },
]

/**
 * Every migration of every area, in version order (then by name): core 1, mesh 2, audit 3, secrets 7. A
 * migration is identified by version and name together, so each area may number its own; add an
 * area's list here.
 */
export const MIGRATIONS: readonly Migration[] = [
  ...TRIGGER_MIGRATIONS,
  ...CORE_MIGRATIONS,
  ...MESH_MIGRATIONS,
  ...AUDIT_MIGRATIONS,
  ...CHAT_MIGRATIONS,
  ...SECRET_MIGRATIONS,
  ...USAGE_MIGRATIONS,
].sort((a, b) => a.version - b.version || a.name.localeCompare(b.name))

/**
 * Applies every migration of `migrations` not yet recorded in `db`. A migration is known by its
 * version AND name, so areas added independently (each numbering its own migrations) never collide;
 * they apply in version order, then by name. A file holding a migration this build does not know was
 * written by a newer one, and is refused.
 */
export function applyMigrations(
  db: SqliteDb,
  migrations: readonly Migration[],
  path: string,
): { applied: string[]; version: number } {
  upgradeMigrationTable(db)
  const recorded = db.prepare('SELECT version, name FROM schema_migrations').all() as Array<{
    version: number
    name: string
  }>
  const key = (m: { version: number | bigint; name: string }): string => `${Number(m.version)} ${m.name}`
  const known = new Set(migrations.map(key))
  const unknown = recorded.filter((r) => !known.has(key(r)))
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0)
  if (unknown.length > 0) {
    throw new HsError(
      'HS_ERR_STORE_SCHEMA',
      `store ${path} has migration ${key(unknown[0]!)}, which this homeostat does not know (it knows up to version ${latest})`,
    )
  }
  const done = new Set(recorded.map(key))
  const applied: string[] = []
  for (const m of migrations) {
    if (done.has(key(m))) continue
    immediateTransaction(db, () => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      )
    })
    applied.push(key(m))
  }
  return { applied, version: latest }
}

/** Files made before migrations were keyed by (version, name) had `version` alone as the primary key. */
function upgradeMigrationTable(db: SqliteDb): void {
  const create =
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL, PRIMARY KEY (version, name))'
  const old = db
    .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get() as { sql: string } | undefined
  if (old && !/PRIMARY KEY \(version, name\)/.test(old.sql)) {
    immediateTransaction(db, () => {
      db.exec('ALTER TABLE schema_migrations RENAME TO schema_migrations_old')
      db.exec(create)
      db.exec('INSERT INTO schema_migrations SELECT version, name, applied_at FROM schema_migrations_old')
      db.exec('DROP TABLE schema_migrations_old')
    })
  } else db.exec(create)
}
