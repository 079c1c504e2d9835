import type { ErrorRecord } from '../core/errors.ts'

/**
 * What the engine reports as runs progress. The names are the dotted CloudEvents types the event
 * mesh publishes for them (CONVENTIONS.md #18).
 */
export type EngineEvent =
  | { type: 'workflow.started'; runId: string; workflowId: string; resumed: boolean }
  | {
      type: 'workflow.completed' | 'workflow.failed' | 'workflow.cancelled' | 'workflow.timed_out'
      runId: string
      workflowId: string
      status: string
      /** How the run was started (`event`, `manual`, `chat`, ...): its `trigger.type`. */
      triggerType: string
      output?: unknown
      error?: ErrorRecord
      durationMs: number
      /** Steps that succeeded, and all steps of the workflow (the source document's successful_actions/total_actions). */
      successfulActions?: number
      totalActions?: number
    }
  | { type: 'workflow.waiting' | 'workflow.paused'; runId: string; workflowId: string; wakeAt?: number }
  | {
      type: 'step.started'
      runId: string
      stepId: string
      iteration: number
      attempt: number
      input: unknown
      /** When the attempt began (epoch ms); a read-only step's start is reported once durable, later. */
      startedAt: number
    }
  | {
      type: 'step.completed'
      runId: string
      stepId: string
      output: unknown
      action?: string
      durationMs?: number
    }
  | { type: 'step.failed'; runId: string; stepId: string; error?: ErrorRecord; action?: string }
  | { type: 'step.skipped'; runId: string; stepId: string; reason: string }
  | {
      type: 'step.retrying'
      runId: string
      stepId: string
      attempt: number
      delayMs: number
      error: ErrorRecord
    }
  | { type: 'step.waiting'; runId: string; stepId: string; signal: string; until?: number }

export type EngineEventType = EngineEvent['type']
