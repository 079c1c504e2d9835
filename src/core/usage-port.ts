/**
 * Token usage and cost of LLM calls, recorded per run and step by `ai.generate` / `ai.analyze`
 * and read back by the API, the CLI and (later) the cost detectors. Implemented by
 * `store/sqlite/sqlite-usage-store.ts`.
 */

/** Token usage and cost of one `ai.*` call, recorded against its run. */
export interface AiUsageRecord {
  runId: string
  workflowId?: string
  stepId: string
  /** `foreach` iteration of the step (0 outside a loop). */
  iteration?: number
  /** Attempt of the step (1 for the first). */
  attempt?: number
  /** Provider name as configured under `ai.providers`. */
  provider: string
  model: string
  inputTokens: number
  outputTokens: number
  /** USD, from the provider's `price` (per million tokens); absent when no price is configured. */
  costUsd?: number
  /** Epoch milliseconds. */
  at: number
}

/** Where `ai.*` actions report usage; `record` must not throw for a valid record. */
export interface AiUsageRecorder {
  record(usage: AiUsageRecord): void
}

/** Sums over a set of usage records. */
export interface UsageTotals {
  calls: number
  inputTokens: number
  outputTokens: number
  /** Sum of the known costs; calls without a price add nothing. */
  costUsd: number
}
