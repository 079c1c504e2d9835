import type { Migration } from './migrations.ts'

/**
 * Tables of the built-in chat channel (area `chat`, version 4): messages per session. `id` orders
 * every message of every session (the `after` cursor of reads and streams); `idempotency_key` makes
 * a retried `chat.send` post once.
 */
export const CHAT_MIGRATIONS: readonly Migration[] = [
  {
    version: 4,
    name: 'chat messages',
    sql: `
CREATE TABLE chat_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session TEXT NOT NULL,
  role TEXT NOT NULL,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  blocks TEXT,
  attachments TEXT,
  run_id TEXT,
  idempotency_key TEXT UNIQUE,
  at INTEGER NOT NULL
);
CREATE INDEX chat_messages_by_session ON chat_messages (session, id);
`,
  },
]
