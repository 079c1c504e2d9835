import type { Migration } from './migrations.ts'

/**
 * Tables of the trigger sources (version 4, area `triggers`): per trigger, the latest schedule tick
 * it handled — fired, or skipped on purpose — so a restart knows which ticks it missed
 * (`catch_up`). Keyed by workflow and trigger key (`id`, or the index as a string).
 */
export const TRIGGER_MIGRATIONS: readonly Migration[] = [
  {
    version: 4,
    name: 'trigger state: last handled schedule tick',
    sql: `
CREATE TABLE trigger_state (
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  last_tick INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, trigger_id)
) WITHOUT ROWID;
`,
  },
]
