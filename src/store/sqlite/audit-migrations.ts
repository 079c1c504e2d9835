import type { Migration } from './migrations.ts'

/**
 * Tables of the audit log (version 3): the hash-chained entries and the signed checkpoints.
 * Indexes serve `audit query`; the partial ones cost nothing for entries without that field.
 */
export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 3,
    name: 'audit log and signed checkpoints',
    sql: `
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT,
  workflow_id TEXT,
  run_id TEXT,
  event_id TEXT,
  component TEXT,
  data TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_type ON audit_log (type, at);
CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE INDEX audit_log_by_workflow ON audit_log (workflow_id, at) WHERE workflow_id IS NOT NULL;
CREATE INDEX audit_log_by_run ON audit_log (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX audit_log_by_component ON audit_log (component, at) WHERE component IS NOT NULL;
CREATE TABLE audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root_hash TEXT NOT NULL,
  at INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  compact_range TEXT
);
`,
  },
]
