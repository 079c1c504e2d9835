import { setTimeout as delay } from 'node:timers/promises'
import { NonRetryableError, type ErrorCode } from '../../core/errors.ts'
import { CodedError, CodedNonRetryableError, CodedRetryAfterError } from './errors.ts'
import type { GuardedHttpClient, GuardedRequest, GuardedResponse } from './guarded-client.ts'

/** A `Retry-After` longer than this is not waited inside the step: it goes to the engine. */
export const MAX_INLINE_RETRY_AFTER_MS = 30_000
const BACKOFF_BASE_MS = 500
const BACKOFF_MAX_MS = 10_000
const JITTER = 0.2

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Statuses worth another attempt: 408, 429, 5xx except 501 and 505; also 529 (Anthropic "overloaded"). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505)
}

/** Exponential backoff with ±20% jitter for attempt `n` (1-based), capped at 10 s. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()))
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined)
  } catch (err) {
    if (signal?.aborted) throw signal.reason
    throw err
  }
}

export interface RetryOptions {
  /** Extra attempts after the first. */
  readonly retries: number
  /** Called before each wait, for the step log. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; why: string }) => void
}

/** The last response, how many attempts it took, and the server's `Retry-After` if it sent one. */
export interface RetriedResponse {
  readonly response: GuardedResponse
  readonly attempts: number
  readonly retryAfterMs?: number
}

/**
 * Sends `spec`, trying again on network errors, timeouts and retryable statuses (`isRetryableStatus`),
 * after the server's `Retry-After` when it sent one (up to `MAX_INLINE_RETRY_AFTER_MS`) or else
 * after an exponential backoff. Returns the last response, whatever its status: the caller turns an
 * error status into the error it wants (`statusError`). Refusals and other non-retryable errors, and
 * the step's abort, are thrown at once; a network error is thrown once the attempts run out.
 */
export async function sendWithRetries(
  client: GuardedHttpClient,
  spec: GuardedRequest,
  options: RetryOptions,
): Promise<RetriedResponse> {
  const total = options.retries + 1
  for (let attempt = 1; ; attempt++) {
    let response: GuardedResponse
    try {
      response = await client.request(spec)
    } catch (err) {
      if (err instanceof NonRetryableError || spec.signal?.aborted || attempt >= total) throw err
      const wait = backoffMs(attempt)
      options.onRetry?.({ attempt, delayMs: wait, why: (err as Error).message })
      await sleep(wait, spec.signal)
      continue
    }
    if (!isRetryableStatus(response.status)) return { response, attempts: attempt }
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now())
    const result = { response, attempts: attempt, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
    if (attempt >= total || (retryAfterMs !== undefined && retryAfterMs > MAX_INLINE_RETRY_AFTER_MS))
      return result
    const wait = retryAfterMs ?? backoffMs(attempt)
    options.onRetry?.({ attempt, delayMs: wait, why: `answered ${response.status}` })
    await sleep(wait, spec.signal)
  }
}

/**
 * The error for an error status, of the kind the engine acts on: `RetryAfterError` when the server
 * said when (429/503 with `Retry-After`), a retryable error for other transient statuses, and a
 * non-retryable one for the rest (4xx: the request itself is wrong).
 */
export function statusError(code: ErrorCode, status: number, message: string, retryAfterMs?: number): Error {
  if (!isRetryableStatus(status)) return new CodedNonRetryableError(code, message)
  if (retryAfterMs !== undefined)
    return new CodedRetryAfterError(code, `${message}; retry after ${retryAfterMs}ms`, retryAfterMs)
  return new CodedError(code, message)
}
