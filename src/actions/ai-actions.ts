import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'

/** Token usage and cost of one `ai.*` call, recorded against its run. */
export interface AiUsageRecord {
  runId: string
  stepId: string
  provider: string
  model: string
  inputTokens: number
  outputTokens: number
  costUsd?: number
  at: number
}

export interface AiUsageRecorder {
  record(usage: AiUsageRecord): void
}

/** `ai.generate` / `ai.analyze` against OpenAI-compatible and Anthropic endpoints. */
export function aiActions(_services: ActionServices): ActionDefinition[] {
  return []
}
