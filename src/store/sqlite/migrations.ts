/**
 * SQLite schema migrations, applied in order inside one transaction each and recorded in
 * `schema_migrations`. Never edit a shipped migration: add a new one.
 */
import { AUDIT_MIGRATIONS } from './audit-migrations.ts'
import { MESH_MIGRATIONS } from './mesh-migrations.ts'

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
 * Every migration of every area, in version order (then by name): core 1, mesh 2, audit 3. A
 * migration is identified by version and name together, so each area may number its own; add an
 * area's list here.
 */
export const MIGRATIONS: readonly Migration[] = [
  ...CORE_MIGRATIONS,
  ...MESH_MIGRATIONS,
  ...AUDIT_MIGRATIONS,
].sort((a, b) => a.version - b.version || a.name.localeCompare(b.name))
