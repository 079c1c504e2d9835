import type { Migration } from './migrations.ts'

/** Token usage and cost of `ai.*` calls (version 5), one row per call, read per run and over time. */
export const USAGE_MIGRATIONS: readonly Migration[] = [
  {
    version: 5,
    name: 'ai token usage and cost',
    sql: `
CREATE TABLE ai_usage (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  workflow_id TEXT,
  step_id TEXT NOT NULL,
  iteration INTEGER NOT NULL DEFAULT 0,
  attempt INTEGER NOT NULL DEFAULT 1,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cost_usd REAL,
  at INTEGER NOT NULL
);
CREATE INDEX ai_usage_by_run ON ai_usage (run_id, id);
CREATE INDEX ai_usage_by_at ON ai_usage (at);
CREATE INDEX ai_usage_by_workflow ON ai_usage (workflow_id, at) WHERE workflow_id IS NOT NULL;
`,
  },
]
