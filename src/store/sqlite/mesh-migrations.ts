import type { Migration } from './migrations.ts'

/** Tables of the event mesh (version 2): the event log, rejected events, routing decisions. */
export const MESH_MIGRATIONS: readonly Migration[] = [
  {
    version: 2,
    name: 'event log with routing decisions, rejected events',
    sql: `
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT,
  time TEXT,
  envelope TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  via TEXT NOT NULL,
  routed_at INTEGER,
  runs INTEGER NOT NULL DEFAULT 0,
  decision TEXT,
  UNIQUE (source, id)
);
CREATE INDEX events_by_type ON events (type, seq DESC);
CREATE INDEX events_unrouted ON events (seq) WHERE routed_at IS NULL;
CREATE TABLE rejected_events (
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  type TEXT,
  source TEXT,
  event_id TEXT,
  body TEXT NOT NULL,
  reasons TEXT NOT NULL,
  via TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'rejected',
  replayed_seq INTEGER
);
ALTER TABLE workflows ADD COLUMN source_hash TEXT;
`,
  },
  {
    version: 2,
    name: 'event waits of wait.event',
    sql: `
CREATE TABLE event_waits (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  signal TEXT NOT NULL,
  pattern TEXT NOT NULL,
  filter TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  UNIQUE (run_id, signal)
);
`,
  },
]
