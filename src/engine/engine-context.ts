import type { ActionDefinition } from '../core/action.ts'
import type { EngineEvent } from './engine-events.ts'
import type { CommitGroup } from './commit-group.ts'

/** Time as the engine sees it; tests inject their own. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** What a run execution needs from the engine that holds it. */
export interface EngineContext {
  readonly clock: Clock
  readonly commits: CommitGroup
  readonly actions: { get(type: string): ActionDefinition<Record<string, unknown>, unknown> | undefined }
  emit(event: EngineEvent): void
  log(level: string, message: string, fields?: Record<string, unknown>): void
  /** Validates rendered parameters against the action's schema: a message, or undefined when valid. */
  checkParams(action: ActionDefinition<Record<string, unknown>, unknown>, params: unknown): string | undefined
  /** Uniform in [0, 1), for backoff jitter. */
  random(): number
}
