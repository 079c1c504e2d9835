import type { ActionDefinition } from '../core/action.ts'
import type { EngineEvent } from './engine-events.ts'
import type { CommitGroup } from './commit-group.ts'

/** Time as the engine sees it; tests inject their own. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/**
 * Secrets as runs see them: the values `{{ secrets.NAME }}` in a step's `with` resolve to, and the
 * redaction applied to everything a run records or reports (attempt inputs, outputs, errors, logs,
 * events). Reading a value makes the redaction know it first.
 */
export interface RunSecrets {
  /** The value of secret `name`; undefined when none is set. May throw (key unavailable). */
  get(name: string): string | undefined
  /** `value` with every known secret value replaced by `[secret:NAME]` (deep; untouched parts shared). */
  redact<T>(value: T): T
}

/** The actions a run can use, by type. */
export interface EngineActions {
  get(type: string): ActionDefinition<Record<string, unknown>, unknown> | undefined
}

/** What a run execution needs from the engine that holds it. */
export interface EngineContext {
  readonly clock: Clock
  readonly commits: CommitGroup
  readonly actions: EngineActions
  /** The secret store as runs see it (`EngineOptions.secrets`); absent: a step naming a secret fails, nothing is redacted. */
  readonly secrets?: RunSecrets
  emit(event: EngineEvent): void
  log(level: string, message: string, fields?: Record<string, unknown>): void
  /** Validates rendered parameters against the action's schema: a message, or undefined when valid. */
  checkParams(action: ActionDefinition<Record<string, unknown>, unknown>, params: unknown): string | undefined
  /** Uniform in [0, 1), for backoff jitter. */
  random(): number
}
