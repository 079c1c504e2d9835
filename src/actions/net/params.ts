import { parseDuration } from '../../core/duration.ts'
import type { ActionServices } from '../action-services.ts'
import { CodedNonRetryableError } from './errors.ts'
import { GuardedHttpClient } from './guarded-client.ts'

/** JSON Schema of a duration parameter, as the other families write it. */
export const DURATION_SCHEMA = {
  description: 'Duration: `250ms`, `4s`, `5m`, `1h`, or milliseconds',
  oneOf: [
    { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)+$|^\\d+$' },
    { type: 'number', minimum: 0 },
  ],
} as const

/** Milliseconds of a duration parameter or setting; `fallback` when absent; a clear error when unreadable. */
export function durationMs(value: string | number | undefined, where: string, fallback: number): number {
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === undefined || ms <= 0)
    throw new CodedNonRetryableError(
      'HS_ERR_ACTION_PARAMS',
      `${where}: not a positive duration: ${JSON.stringify(value)} (use 250ms, 4s, 5m)`,
    )
  return ms
}

/** The guarded client of a family, built from `services.http` (its allow/deny lists and resolver). */
export function guardedClient(services: ActionServices): GuardedHttpClient {
  return new GuardedHttpClient({
    allow: services.http.allow,
    deny: services.http.deny,
    ...(services.http.lookup ? { lookup: services.http.lookup } : {}),
  })
}
