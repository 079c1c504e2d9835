import { parseDuration } from '../core/duration.ts'
import { CodedNonRetryableError } from './coded-errors.ts'

/** JSON Schema of a duration parameter (`250ms`, `4s`, `1m30s`, or milliseconds), for every action family. */
export const DURATION_SCHEMA = {
  description: 'Duration: `250ms`, `4s`, `5m`, `1h`, or milliseconds',
  oneOf: [
    { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*)+$|^\\d+$' },
    { type: 'number', minimum: 0 },
  ],
} as const

/**
 * Milliseconds of a duration parameter; `fallback` when absent. A value that is not a duration, or is
 * not positive (unless `allowZero`), fails the step without retry, naming `where`.
 */
export function durationMs<F extends number | undefined>(
  value: string | number | undefined,
  where: string,
  fallback: F,
  options: { allowZero?: boolean } = {},
): number | F {
  if (value === undefined) return fallback
  const ms = parseDuration(value)
  if (ms === undefined || ms < 0 || (ms === 0 && !options.allowZero))
    throw new CodedNonRetryableError(
      'HS_ERR_ACTION_PARAMS',
      `${where}: not a ${options.allowZero ? '' : 'positive '}duration: ${JSON.stringify(value)} (use 250ms, 4s, 5m)`,
    )
  return ms
}
