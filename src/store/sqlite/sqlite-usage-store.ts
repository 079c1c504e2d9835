import type { AiUsageRecord, AiUsageRecorder, UsageTotals } from '../../core/usage-port.ts'
import type { SqliteDb, SqlValue } from './sqlite-driver.ts'
import { StatementCache } from './sqlite-statements.ts'

const COLUMNS =
  'run_id, workflow_id, step_id, iteration, attempt, provider, model, input_tokens, output_tokens, cost_usd, at'

function toRecord(row: SqlValue[]): AiUsageRecord {
  return {
    runId: row[0] as string,
    ...(row[1] === null ? {} : { workflowId: row[1] as string }),
    stepId: row[2] as string,
    iteration: Number(row[3]),
    attempt: Number(row[4]),
    provider: row[5] as string,
    model: row[6] as string,
    inputTokens: Number(row[7]),
    outputTokens: Number(row[8]),
    ...(row[9] === null ? {} : { costUsd: Number(row[9]) }),
    at: Number(row[10]),
  }
}

/** Totals of one provider and model. */
export interface UsageByModel extends UsageTotals {
  provider: string
  model: string
}

/**
 * `ai_usage` rows on the connection of `SqliteStore` (`new SqliteUsageStore(store.handle)`): one
 * row per LLM call. Inserts are single autocommit statements (a transaction never spans an await
 * on this connection, so a record never joins someone else's).
 */
export class SqliteUsageStore implements AiUsageRecorder {
  readonly #stmts: StatementCache

  constructor(db: SqliteDb) {
    this.#stmts = new StatementCache(db)
  }

  record(usage: AiUsageRecord): void {
    this.#stmts
      .arrays(`INSERT INTO ai_usage (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        usage.runId,
        usage.workflowId ?? null,
        usage.stepId,
        usage.iteration ?? 0,
        usage.attempt ?? 1,
        usage.provider,
        usage.model,
        usage.inputTokens,
        usage.outputTokens,
        usage.costUsd ?? null,
        usage.at,
      )
  }

  /** Every call of a run, in the order made, and their totals. */
  forRun(runId: string): { calls: AiUsageRecord[]; totals: UsageTotals } {
    const rows = this.#stmts
      .arrays(`SELECT ${COLUMNS} FROM ai_usage WHERE run_id = ? ORDER BY id`)
      .all(runId) as unknown as SqlValue[][]
    const calls = rows.map(toRecord)
    return { calls, totals: sum(calls) }
  }

  /**
   * Totals per provider and model over `[since, until)` (epoch ms), optionally of one workflow:
   * what the cost detectors read.
   */
  totals(filter: { since?: number; until?: number; workflowId?: string } = {}): UsageByModel[] {
    const rows = this.#stmts
      .arrays(
        `SELECT provider, model, COUNT(*), SUM(input_tokens), SUM(output_tokens), COALESCE(SUM(cost_usd), 0)
         FROM ai_usage WHERE at >= ? AND at < ? AND (? IS NULL OR workflow_id = ?)
         GROUP BY provider, model ORDER BY provider, model`,
      )
      .all(
        filter.since ?? 0,
        filter.until ?? Number.MAX_SAFE_INTEGER,
        filter.workflowId ?? null,
        filter.workflowId ?? null,
      ) as unknown as SqlValue[][]
    return rows.map((r) => ({
      provider: r[0] as string,
      model: r[1] as string,
      calls: Number(r[2]),
      inputTokens: Number(r[3]),
      outputTokens: Number(r[4]),
      costUsd: Number(r[5]),
    }))
  }
}

function sum(calls: readonly AiUsageRecord[]): UsageTotals {
  const totals: UsageTotals = { calls: calls.length, inputTokens: 0, outputTokens: 0, costUsd: 0 }
  for (const c of calls) {
    totals.inputTokens += c.inputTokens
    totals.outputTokens += c.outputTokens
    totals.costUsd += c.costUsd ?? 0
  }
  return totals
}
