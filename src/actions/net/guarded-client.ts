import type { LookupFunction } from 'node:net'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import type { Readable } from 'node:stream'
import { parseIpLiteral } from '../../core/destination-policy.ts'
import { NonRetryableError } from '../../core/errors.ts'
import { DestinationGuard, type DestinationGuardOptions } from './destination-guard.ts'
import { CodedNonRetryableError, HttpTimeoutError, ResponseTooLargeError } from './errors.ts'
import type { ResolvedAddress } from './host-lookup.ts'

/** One request through the guard. */
export interface GuardedRequest {
  readonly method: string
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
  /** Limit for the whole exchange, redirects included, in milliseconds. */
  readonly timeoutMs: number
  /** Largest (decoded) response body accepted, in bytes; the transfer is cut past it. */
  readonly maxResponseBytes: number
  /** The step's signal: aborting it aborts the request with the signal's reason. */
  readonly signal?: AbortSignal
  /** Redirects followed, each re-checked by the guard; 0 returns the 3xx itself. Default 5. */
  readonly maxRedirects?: number
  /**
   * What the request is, in errors: default `METHOD URL`. A Slack webhook URL is itself a secret,
   * so its label shows the origin only.
   */
  readonly label?: string
}

export interface GuardedResponse {
  readonly status: number
  readonly statusText: string
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  /** The URL that answered (after redirects). */
  readonly url: string
  /** Every URL redirected to, in order. */
  readonly redirects: readonly string[]
  /** The address the answer came from (the one the guard checked). */
  readonly address: string
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** Dropped when a redirect leaves the origin: they belong to the first server only. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key']

/**
 * Outbound HTTP for the action families, through the destination guard: each hop's host is
 * resolved and checked, then the socket is opened to exactly the checked address (a pinned
 * `lookup`; `Host` and TLS SNI keep the name), so DNS rebinding cannot swap the address between
 * the check and the connection. Redirects are followed by hand, each re-checked. Bodies are
 * decoded (gzip, deflate, br) and capped after decoding. Connections are not pooled.
 */
export class GuardedHttpClient {
  readonly guard: DestinationGuard

  constructor(options: DestinationGuardOptions) {
    this.guard = new DestinationGuard(options)
  }

  async request(spec: GuardedRequest): Promise<GuardedResponse> {
    const timeout = AbortSignal.timeout(spec.timeoutMs)
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout
    const maxRedirects = spec.maxRedirects ?? 5
    const redirects: string[] = []
    let url = spec.url
    let method = spec.method.toUpperCase()
    let body = spec.body
    const headers = lowerCaseKeys(spec.headers ?? {})
    let first: string | undefined
    for (let hop = 0; ; hop++) {
      const what =
        hop === 0
          ? (spec.label ?? `${method} ${url}`)
          : `redirect ${hop} of ${spec.label ?? `${spec.method.toUpperCase()} ${spec.url}`} to ${url}`
      const checked = await this.guard.require(url, what)
      first ??= new URL(checked.url).origin
      if (signal.aborted) throw abortReason(spec, timeout, what)
      const response = await send(
        checked.url,
        checked.connectTo,
        method,
        headers,
        body,
        signal,
        spec,
        timeout,
        what,
      )
      const location = response.headers.location
      if (!REDIRECTS.has(response.status) || location === undefined || maxRedirects === 0)
        return { ...response, url: checked.url, redirects }
      if (hop >= maxRedirects)
        throw new CodedNonRetryableError(
          'HS_ERR_HTTP_STATUS',
          `${spec.label ?? `${spec.method.toUpperCase()} ${spec.url}`}: more than ${maxRedirects} redirects (the last to ${location})`,
        )
      let next: URL
      try {
        next = new URL(location, checked.url)
      } catch {
        throw new CodedNonRetryableError(
          'HS_ERR_HTTP_STATUS',
          `${what} answered ${response.status} with an invalid Location ${JSON.stringify(location)}`,
        )
      }
      if (next.origin !== first) for (const name of CREDENTIAL_HEADERS) delete headers[name]
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        if (method !== 'HEAD') method = 'GET'
        body = undefined
        delete headers['content-type']
        delete headers['content-length']
      }
      url = next.href
      redirects.push(url)
    }
  }
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

function abortReason(spec: GuardedRequest, timeout: AbortSignal, what: string): unknown {
  if (spec.signal?.aborted) return spec.signal.reason
  if (timeout.aborted) return new HttpTimeoutError(`${what}: no complete answer within ${spec.timeoutMs}ms`)
  return new Error(`${what}: aborted`)
}

/** A `lookup` that answers with the checked address only, whatever name the socket asks for. */
function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all)
      callback(null, [{ address: address.address, family: address.family }])
    else callback(null, address.address, address.family)
  }
}

function send(
  url: string,
  connectTo: ResolvedAddress,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  signal: AbortSignal,
  spec: GuardedRequest,
  timeout: AbortSignal,
  what: string,
): Promise<Omit<GuardedResponse, 'url' | 'redirects'>> {
  const target = new URL(url)
  const isLiteral = parseIpLiteral(target.hostname) !== undefined
  const hostname = target.hostname.replace(/^\[|\]$/g, '')
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body
  const outgoing: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...headers }
  if (payload !== undefined) outgoing['content-length'] = String(payload.byteLength)
  const options = {
    method,
    hostname: isLiteral ? connectTo.address : hostname,
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    headers: outgoing,
    agent: false as const,
    signal,
    ...(isLiteral ? {} : { lookup: pinnedLookup(connectTo), servername: hostname.replace(/\.$/, '') }),
  }
  const maxBytes = spec.maxResponseBytes
  return new Promise((resolve, reject) => {
    let settled = false
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      req.destroy()
      reject(signal.aborted ? abortReason(spec, timeout, what) : networkError(err, what))
    }
    let req: ReturnType<typeof httpRequest>
    try {
      req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(options)
    } catch (err) {
      reject(
        new CodedNonRetryableError('HS_ERR_HTTP_STATUS', `${what}: ${(err as Error).message}`, {
          cause: err,
        }),
      )
      return
    }
    req.on('error', fail)
    req.on('response', (res: IncomingMessage) => {
      const tooBig = (): ResponseTooLargeError =>
        new ResponseTooLargeError(
          `${what}: the response is larger than ${maxBytes} bytes, the limit for this step`,
        )
      const declared = Number(res.headers['content-length'])
      const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase()
      if (encoding === 'identity' && Number.isFinite(declared) && declared > maxBytes) {
        settled = true
        res.destroy()
        req.destroy()
        reject(tooBig())
        return
      }
      const stream: Readable = decoder(encoding, res)
      const chunks: Buffer[] = []
      let size = 0
      stream.on('data', (chunk: Buffer) => {
        size += chunk.byteLength
        if (size > maxBytes) {
          if (settled) return
          settled = true
          stream.destroy()
          res.destroy()
          req.destroy()
          reject(tooBig())
          return
        }
        chunks.push(chunk)
      })
      stream.on('error', fail)
      res.on('error', fail)
      stream.on('end', () => {
        if (settled) return
        settled = true
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: flatten(res.headers),
          body: Buffer.concat(chunks),
          address: connectTo.address,
        })
      })
    })
    if (payload !== undefined) req.end(payload)
    else req.end()
  })
}

function decoder(encoding: string, res: IncomingMessage): Readable {
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(createGunzip())
  if (encoding === 'deflate') return res.pipe(createInflate())
  if (encoding === 'br') return res.pipe(createBrotliDecompress())
  return res
}

function flatten(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/** Certificate problems: retrying cannot fix them. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/

/** A network error, retryable unless it is a certificate the server will keep presenting. */
function networkError(err: unknown, what: string): Error {
  const code = (err as { code?: unknown }).code
  const detail = typeof code === 'string' ? `${code} (${(err as Error).message})` : (err as Error).message
  if (typeof code === 'string' && TLS_CODES.test(code))
    return new NonRetryableError(`${what} failed: the server's TLS certificate is not trusted: ${detail}`, {
      cause: err,
    })
  return new Error(`${what} failed: ${detail}`, { cause: err })
}
