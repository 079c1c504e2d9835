import type { ActionContext, ActionDefinition, ActionPlan } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'
import { CodedNonRetryableError } from './net/errors.ts'
import type { GuardedHttpClient, GuardedResponse } from './net/guarded-client.ts'
import { DURATION_SCHEMA, durationMs, guardedClient } from './net/params.ts'
import { sendWithRetries, statusError } from './net/retries.ts'

type QueryValue = string | number | boolean
export interface HttpRequestParams {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'
  url: string
  headers?: Record<string, string>
  query?: Record<string, QueryValue | QueryValue[]>
  json?: unknown
  body?: string
  timeout?: string | number
  max_response?: number
  retries?: number
  follow_redirects?: boolean
  fail_on_status?: boolean
  response_type?: 'auto' | 'json' | 'text' | 'base64'
  idempotency_key?: boolean
}

export interface HttpRequestOutput {
  status: number
  ok: boolean
  headers: Record<string, string>
  body: unknown
  url: string
  redirects: string[]
  attempts: number
}

const SCALAR = { type: ['string', 'number', 'boolean'] }
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const PARAMS = {
  type: 'object',
  properties: {
    method: {
      type: 'string',
      enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      description: 'HTTP method. Default GET, or POST when `json` or `body` is given',
    },
    url: {
      type: 'string',
      minLength: 1,
      description:
        'Absolute http(s) URL. Private, loopback, link-local and metadata destinations are refused unless `http.allow` admits them',
    },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Request headers; use `{{ secrets.NAME }}` for tokens',
    },
    query: {
      type: 'object',
      additionalProperties: { anyOf: [SCALAR, { type: 'array', items: SCALAR }] },
      description: 'Query parameters added to the URL (a list repeats the name)',
    },
    json: { description: 'JSON body, sent as application/json (not with `body`)' },
    body: {
      type: 'string',
      description: 'Text body, sent as text/plain unless a content-type header says otherwise',
    },
    timeout: {
      ...DURATION_SCHEMA,
      description: 'Limit of one attempt, redirects included. Default `http.timeout` (30s)',
    },
    max_response: {
      type: 'integer',
      minimum: 1,
      description: 'Largest response body kept, in bytes; at most `http.max_response` (default 10 MiB)',
    },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 2,
      description:
        'Extra attempts on network errors, timeouts, 408, 429 and 5xx, honouring Retry-After. Default 2',
    },
    follow_redirects: {
      type: 'boolean',
      default: true,
      description: 'Follow up to 5 redirects, each destination checked again. Default true',
    },
    fail_on_status: {
      type: 'boolean',
      default: true,
      description:
        'Fail the step on a 4xx/5xx answer (after retries). Default true; false returns it as output',
    },
    response_type: {
      type: 'string',
      enum: ['auto', 'json', 'text', 'base64'],
      default: 'auto',
      description:
        '`auto` parses JSON when the content type says so, else text; `json` requires JSON; `base64` for binary',
    },
    idempotency_key: {
      type: 'boolean',
      default: true,
      description:
        'Send the step idempotency key as `Idempotency-Key` on POST/PUT/PATCH/DELETE. Default true',
    },
  },
  required: ['url'],
  additionalProperties: false,
}

const OUTPUT = {
  type: 'object',
  properties: {
    status: { type: 'integer', description: 'HTTP status of the final answer' },
    ok: { type: 'boolean', description: 'True for a 2xx status' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Response headers, lower-case names',
    },
    body: { description: 'Parsed JSON, text, or base64 text (see `response_type`)' },
    url: { type: 'string', description: 'URL that gave the final answer' },
    redirects: { type: 'array', items: { type: 'string' }, description: 'URLs redirected to, in order' },
    attempts: { type: 'integer', description: 'Attempts made (1 when no retry was needed)' },
  },
  required: ['status', 'ok', 'headers', 'body', 'url', 'redirects', 'attempts'],
}

/** The URL with `query` appended; a URL that does not parse is left for the guard to refuse. */
function withQuery(url: string, query: HttpRequestParams['query']): string {
  if (!query || Object.keys(query).length === 0) return url
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url
  }
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) parsed.searchParams.append(name, String(v))
  }
  return parsed.href
}

interface Prepared {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  maxBytes: number
}

function prepare(params: HttpRequestParams, services: ActionServices, ctx: ActionContext): Prepared {
  const method = params.method ?? (params.json !== undefined || params.body !== undefined ? 'POST' : 'GET')
  if (params.json !== undefined && params.body !== undefined)
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'http.request: pass `json` or `body`, not both')
  const headers: Record<string, string> = {
    'user-agent': 'homeostat',
    accept: 'application/json, text/*;q=0.9, */*;q=0.5',
  }
  for (const [name, value] of Object.entries(params.headers ?? {})) headers[name.toLowerCase()] = value
  let body: string | undefined
  if (params.json !== undefined) {
    body = JSON.stringify(params.json)
    headers['content-type'] ??= 'application/json'
  } else if (params.body !== undefined) {
    body = params.body
    headers['content-type'] ??= 'text/plain; charset=utf-8'
  }
  if (UNSAFE.has(method) && params.idempotency_key !== false)
    headers['idempotency-key'] ??= ctx.idempotencyKey
  const maxBytes = Math.min(params.max_response ?? services.http.maxResponse, services.http.maxResponse)
  return {
    method,
    url: withQuery(params.url, params.query),
    headers,
    ...(body === undefined ? {} : { body }),
    timeoutMs: durationMs(params.timeout, 'http.request timeout', services.http.timeoutMs),
    maxBytes,
  }
}

function decodeBody(
  response: GuardedResponse,
  type: HttpRequestParams['response_type'],
  what: string,
  ctx: ActionContext,
): unknown {
  const contentType = response.headers['content-type'] ?? ''
  if (type === 'base64') return response.body.toString('base64')
  const text = response.body.toString('utf8')
  if (type === 'text') return text
  const isJson = /[/+]json\b/i.test(contentType)
  if (type === 'json' || isJson) {
    if (text.trim() === '') return null
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      if (type === 'json')
        throw new CodedNonRetryableError(
          'HS_ERR_HTTP_STATUS',
          `${what}: the answer is not JSON (${(err as Error).message}); pass response_type: text to keep it as text`,
        )
      ctx.logger.warn(`${what}: content type ${contentType} but the body is not JSON; kept as text`)
    }
  }
  return text
}

/** Method and URL as shown in logs: without the query, which may carry tokens. */
function shown(method: string, url: string): string {
  try {
    const u = new URL(url)
    return `${method} ${u.origin}${u.pathname}`
  } catch {
    return `${method} ${url}`
  }
}

async function execute(
  client: GuardedHttpClient,
  services: ActionServices,
  params: HttpRequestParams,
  ctx: ActionContext,
): Promise<HttpRequestOutput> {
  const p = prepare(params, services, ctx)
  const { response, attempts, retryAfterMs } = await sendWithRetries(
    client,
    {
      method: p.method,
      url: p.url,
      headers: p.headers,
      ...(p.body === undefined ? {} : { body: p.body }),
      timeoutMs: p.timeoutMs,
      maxResponseBytes: p.maxBytes,
      signal: ctx.signal,
      maxRedirects: params.follow_redirects === false ? 0 : 5,
    },
    {
      retries: params.retries ?? 2,
      onRetry: ({ attempt, delayMs, why }) =>
        ctx.logger.warn(`${shown(p.method, p.url)}: attempt ${attempt} ${why}; retrying in ${delayMs}ms`),
    },
  )
  const what = `${p.method} ${response.url}`
  ctx.logger.info(
    `${shown(p.method, response.url)} answered ${response.status} (${response.body.byteLength} bytes)`,
    {
      attempts,
      redirects: response.redirects.length,
    },
  )
  const ok = response.status >= 200 && response.status < 300
  if (!ok && response.status >= 400 && params.fail_on_status !== false) {
    const snippet = response.body.toString('utf8').trim().slice(0, 300)
    const suffix = attempts > 1 ? ` after ${attempts} attempts` : ''
    throw statusError(
      'HS_ERR_HTTP_STATUS',
      response.status,
      `http.request: ${what} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${suffix}${snippet ? `: ${snippet}` : ''}`,
      retryAfterMs,
    )
  }
  return {
    status: response.status,
    ok,
    headers: { ...response.headers },
    body:
      p.method === 'HEAD' ? null : decodeBody(response, params.response_type, `http.request: ${what}`, ctx),
    url: response.url,
    redirects: [...response.redirects],
    attempts,
  }
}

async function plan(
  client: GuardedHttpClient,
  services: ActionServices,
  params: HttpRequestParams,
  ctx: ActionContext,
): Promise<ActionPlan> {
  const p = prepare(params, services, ctx)
  const check = await client.guard.require(p.url, `${p.method} ${p.url}`)
  return {
    summary: `${p.method} ${check.url} (${check.reason})`,
    details: {
      method: p.method,
      url: check.url,
      headers: Object.keys(p.headers).sort(),
      bodyBytes: p.body === undefined ? 0 : Buffer.byteLength(p.body),
      guard: { allowed: true, reason: check.reason, connectTo: check.connectTo.address },
    },
  }
}

/**
 * `http.request` through the destination guard (docs/actions-http-ai-notify.md): JSON or text
 * body, retries on transient failures honouring `Retry-After`, a response size cap, redirects
 * re-checked hop by hop. `plan()` resolves and checks the destination without sending anything.
 */
export function httpActions(services: ActionServices): ActionDefinition[] {
  const client = guardedClient(services)
  const request: ActionDefinition<HttpRequestParams, HttpRequestOutput> = {
    type: 'http.request',
    description: 'Calls an HTTP(S) URL through the destination guard; JSON in and out, retries, size cap.',
    params: PARAMS,
    output: OUTPUT,
    sideEffects: true,
    execute: (params, ctx) => execute(client, services, params, ctx),
    plan: (params, ctx) => plan(client, services, params, ctx),
  }
  return [request as unknown as ActionDefinition]
}
