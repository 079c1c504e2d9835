import { NonRetryableError, RetryAfterError } from '../core/errors.ts'
import { HandlerTimeoutError, type HandlerCallOptions } from '../core/handler-port.ts'

/**
 * HTTP handlers: `POST <url>/<method>` with the args as the JSON body (protocol in docs/handlers.md).
 * Each attempt is bounded by the handler's `timeout` (and the step's signal); network errors,
 * timeouts, 408, 429 and 5xx (but 501) are retried `retries` times with exponential backoff and
 * jitter, or after the `Retry-After` the target sent. When those run out the error still tells the
 * engine what to do: `RetryAfterError` when the target said when, a plain error (retryable) for
 * transient failures, `NonRetryableError` for other 4xx, redirects, oversized or malformed answers.
 *
 * These targets are written by the operator in homeostat.yaml, so they are not subject to the
 * destination guard that applies to the `http.request` action.
 */

/** Largest response body accepted, in bytes. */
export const MAX_RESPONSE_BYTES = 1024 * 1024
/** A `Retry-After` longer than this is not waited inside the call: it goes to the engine as `RetryAfterError`. */
export const MAX_INLINE_RETRY_AFTER_MS = 30_000
const BACKOFF_BASE_MS = 200
const BACKOFF_MAX_MS = 5_000
const JITTER = 0.2

export interface HttpHandlerSettings {
  /** Base URL without a trailing slash. */
  readonly url: string
  /** Limit per attempt, in milliseconds. */
  readonly timeoutMs: number
  /** Extra attempts after the first on transient failures. */
  readonly retries: number
  readonly headers: Readonly<Record<string, string>>
}

export interface HttpHandlerDeps {
  /** Waits between attempts; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>
  /** Epoch milliseconds, for `Retry-After` given as an HTTP date. */
  now(): number
  /** In [0, 1), for jitter. */
  random(): number
}

type Attempt = { ok: true; value: unknown } | { ok: false; error: Error; retryAfterMs?: number }

export class HttpHandler {
  readonly kind = 'http'
  readonly name: string
  readonly settings: HttpHandlerSettings
  readonly #deps: HttpHandlerDeps

  constructor(name: string, settings: HttpHandlerSettings, deps: HttpHandlerDeps) {
    this.name = name
    this.settings = settings
    this.#deps = deps
  }

  async invoke(method: string, args: unknown, options: HandlerCallOptions): Promise<unknown> {
    const url = `${this.settings.url}/${encodeURIComponent(method)}`
    const body = JSON.stringify(args === undefined ? {} : args)
    const headers: Record<string, string> = {
      ...this.settings.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/plain;q=0.9, */*;q=0.1',
      'idempotency-key': options.idempotencyKey,
    }
    const timeoutMs = options.timeoutMs ?? this.settings.timeoutMs
    const total = this.settings.retries + 1
    for (let attempt = 1; ; attempt++) {
      if (options.signal.aborted) throw options.signal.reason
      const outcome = await this.#attempt(url, body, headers, timeoutMs, method, options.signal)
      if (outcome.ok) return outcome.value
      const { error, retryAfterMs } = outcome
      const suffix = ` (attempt ${attempt} of ${total})`
      if (retryAfterMs !== undefined && (attempt >= total || retryAfterMs > MAX_INLINE_RETRY_AFTER_MS)) {
        throw new RetryAfterError(`${error.message}${suffix}; retry after ${retryAfterMs}ms`, retryAfterMs, {
          cause: error.cause,
        })
      }
      if (attempt >= total) {
        error.message += suffix
        throw error
      }
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
      const delay = retryAfterMs ?? Math.round(backoff * (1 - JITTER + 2 * JITTER * this.#deps.random()))
      await this.#deps.sleep(delay, options.signal)
    }
  }

  async #attempt(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    method: string,
    stepSignal: AbortSignal,
  ): Promise<Attempt> {
    const target = `${this.name}.${method}`
    const what = `handler ${target}: POST ${url}`
    const signal = AbortSignal.any([stepSignal, AbortSignal.timeout(timeoutMs)])
    const aborted = (err: unknown): Attempt => {
      if (stepSignal.aborted) throw stepSignal.reason
      if (signal.aborted) return { ok: false, error: new HandlerTimeoutError(target, timeoutMs) }
      return { ok: false, error: new Error(`${what} failed: ${describeNetworkError(err)}`, { cause: err }) }
    }
    let response: Response
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' })
    } catch (err) {
      return aborted(err)
    }
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`
    let text: string
    try {
      text = await readCapped(response, what)
    } catch (err) {
      if (err instanceof NonRetryableError) throw err
      return aborted(err)
    }
    if (response.status >= 200 && response.status < 300)
      return { ok: true, value: parseBody(response, text, what) }
    const detail = text.trim() === '' ? '' : `: ${text.trim().slice(0, 300)}`
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location')
      throw new NonRetryableError(
        `${what} answered ${status}${location ? ` (to ${location})` : ''}; redirects are not followed: configure the final URL in handlers.${this.name}.url`,
      )
    }
    const retryable =
      response.status === 408 ||
      response.status === 429 ||
      (response.status >= 500 && response.status !== 501)
    if (!retryable) throw new NonRetryableError(`${what} answered ${status}${detail}`)
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#deps.now())
    return {
      ok: false,
      error: new Error(`${what} answered ${status}${detail}`),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    }
  }
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The body as text, refusing (non-retryably) anything over `MAX_RESPONSE_BYTES`. */
async function readCapped(response: Response, what: string): Promise<string> {
  const tooBig = (): NonRetryableError =>
    new NonRetryableError(
      `${what}: the response is larger than ${MAX_RESPONSE_BYTES} bytes (1 MiB), the limit for a handler's answer`,
    )
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => {})
    throw tooBig()
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => {})
      throw tooBig()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** JSON when the content type says so (empty body: null), otherwise the text. */
function parseBody(response: Response, text: string, what: string): unknown {
  const type = response.headers.get('content-type') ?? ''
  if (!/[/+]json\b/i.test(type)) return text
  if (text.trim() === '') return null
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new NonRetryableError(
      `${what}: the response says ${type} but is not JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  if (cause && typeof cause.code === 'string')
    return `${cause.code}${typeof cause.message === 'string' ? ` (${cause.message})` : ''}`
  return err instanceof Error ? err.message : String(err)
}
