import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Pure verification of signed webhook requests: Standard Webhooks v1 (HMAC-SHA256 over
 * `id.timestamp.body`) and GitHub's `X-Hub-Signature-256` (HMAC-SHA256 over the body). The raw body
 * bytes are what is verified; every comparison is constant-time (`crypto.timingSafeEqual` over
 * equal-length buffers). A failure names what was wrong with the request, never the expected value.
 *
 * The `standardwebhooks` package is not used here: it re-decodes the body as UTF-8 (two byte
 * sequences can verify the same), reads `Date.now()` (no injected clock), accepts `parseInt` prefixes
 * such as `123abc` as a timestamp and takes one secret only. The tests sign with it to prove interop.
 */

/** How a webhook trigger authenticates its callers (`signature:` in the trigger). */
export const SIGNATURE_SCHEMES = ['standard', 'github', 'none'] as const
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number]

/** Seconds a Standard Webhooks timestamp may be away from now, either way (Svix and Stripe use 300). */
export const STANDARD_TOLERANCE_SECONDS = 300

/** Smallest Standard Webhooks secret, in decoded bytes (the spec asks for 24 to 64). */
export const STANDARD_SECRET_MIN_BYTES = 24

/** Machine-readable reason of a refusal, returned as `reason` in the 401 problem. */
export type SignatureFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'timestamp_expired'
  | 'timestamp_future'
  | 'unsupported_version'
  | 'no_match'

export type SignatureCheck =
  | {
      ok: true
      /** The sender's message id (`webhook-id`, `X-GitHub-Delivery`): the deduplication key. */
      id: string
      /** Unix seconds of `webhook-timestamp` (Standard Webhooks only). */
      timestamp?: number
    }
  | { ok: false; reason: SignatureFailure; message: string }

/** Request headers with lower-case names, as Node's `IncomingHttpHeaders` holds them. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>

const MESSAGE_ID = /^[\x21-\x7e]{1,256}$/
const TIMESTAMP = /^[1-9][0-9]{0,14}$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const GITHUB_SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/
/** Length of a base64 HMAC-SHA256 (32 bytes). */
const V1_LENGTH = 44

function fail(reason: SignatureFailure, message: string): SignatureCheck {
  return { ok: false, reason, message }
}

/** One header's value; a repeated header (an array) counts as malformed. */
function header(headers: HeaderBag, name: string): string | undefined | readonly string[] {
  const value = headers[name]
  return typeof value === 'string' ? value.trim() : value
}

/**
 * Decodes a Standard Webhooks secret, `whsec_<base64>` (at least 24 bytes), into its key bytes;
 * returns a message saying what is wrong instead when it is not one.
 */
export function decodeStandardSecret(secret: string): Uint8Array | string {
  if (!secret.startsWith('whsec_'))
    return 'a Standard Webhooks secret is `whsec_` followed by base64 (e.g. from `openssl rand -base64 32`)'
  const text = secret.slice('whsec_'.length)
  if (!BASE64.test(text) || text.length % 4 === 1) return 'the part after `whsec_` is not base64'
  const key = Buffer.from(text, 'base64')
  if (key.length < STANDARD_SECRET_MIN_BYTES)
    return `the secret decodes to ${key.length} bytes; use at least ${STANDARD_SECRET_MIN_BYTES}`
  return new Uint8Array(key)
}

/** `v1,<base64>` for `id.timestamp.body` under `key` (senders, tests and benchmarks sign with it). */
export function signStandard(
  id: string,
  timestamp: number | string,
  body: Uint8Array,
  key: Uint8Array,
): string {
  return `v1,${standardDigest(id, String(timestamp), body, key)}`
}

/** `sha256=<hex>` of the body under `key`, as GitHub sends it in `X-Hub-Signature-256`. */
export function signGithub(body: Uint8Array, key: Uint8Array): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`
}

function standardDigest(id: string, timestamp: string, body: Uint8Array, key: Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')
}

/**
 * Verifies a Standard Webhooks request: `webhook-id`, `webhook-timestamp` (Unix seconds within
 * ±`toleranceSeconds` of `nowMs`) and `webhook-signature` (space-separated `v1,<base64>` entries; one
 * matching any of `keys` passes, which is how senders and receivers rotate secrets). Entries of other
 * versions (`v1a`, ed25519) are skipped.
 */
export function verifyStandard(input: {
  headers: HeaderBag
  body: Uint8Array
  keys: readonly Uint8Array[]
  nowMs: number
  toleranceSeconds?: number
}): SignatureCheck {
  const tolerance = input.toleranceSeconds ?? STANDARD_TOLERANCE_SECONDS
  const id = header(input.headers, 'webhook-id')
  const timestamp = header(input.headers, 'webhook-timestamp')
  const signature = header(input.headers, 'webhook-signature')
  for (const [name, value] of [
    ['webhook-id', id],
    ['webhook-timestamp', timestamp],
    ['webhook-signature', signature],
  ] as const) {
    if (value === undefined || value === '')
      return fail(
        'missing_header',
        `the ${name} header is missing; sign the request the Standard Webhooks way`,
      )
    if (typeof value !== 'string')
      return fail('malformed_header', `the ${name} header is sent more than once`)
  }
  if (!MESSAGE_ID.test(id as string))
    return fail('malformed_header', 'webhook-id must be 1 to 256 visible ASCII characters')
  if (!TIMESTAMP.test(timestamp as string))
    return fail('malformed_header', 'webhook-timestamp must be a Unix time in whole seconds')
  const seconds = Number(timestamp)
  const skew = Math.floor(input.nowMs / 1000) - seconds
  if (skew > tolerance)
    return fail(
      'timestamp_expired',
      `webhook-timestamp is ${skew}s in the past, more than the ${tolerance}s allowed; send a fresh signature (and check the sender's clock)`,
    )
  if (-skew > tolerance)
    return fail(
      'timestamp_future',
      `webhook-timestamp is ${-skew}s in the future, more than the ${tolerance}s allowed; check the sender's clock`,
    )
  let v1 = 0
  let other = 0
  const candidates: Buffer[] = []
  for (const entry of (signature as string).split(' ')) {
    if (entry === '') continue
    const comma = entry.indexOf(',')
    const version = comma < 0 ? '' : entry.slice(0, comma)
    if (version === 'v1') {
      v1++
      const value = Buffer.from(entry.slice(comma + 1), 'utf8')
      if (value.length === V1_LENGTH) candidates.push(value)
    } else if (/^v[0-9][a-z0-9]*$/.test(version)) other++
  }
  if (v1 === 0)
    return other > 0
      ? fail(
          'unsupported_version',
          'webhook-signature holds no v1 signature; homeostat verifies v1 (HMAC-SHA256), not v1a (ed25519)',
        )
      : fail('malformed_header', 'webhook-signature must list `v1,<base64>` entries separated by spaces')
  let matched = false
  for (const key of input.keys) {
    const expected = Buffer.from(standardDigest(id as string, timestamp as string, input.body, key), 'utf8')
    // every candidate against every key, without stopping early
    for (const candidate of candidates) if (timingSafeEqual(candidate, expected)) matched = true
  }
  if (!matched)
    return fail(
      'no_match',
      `none of the ${v1} v1 signature(s) matches this request signed with the trigger's secret(s); sign "webhook-id.webhook-timestamp.body" over the exact bytes sent`,
    )
  return { ok: true, id: id as string, timestamp: seconds }
}

/**
 * Verifies a GitHub request: `X-Hub-Signature-256: sha256=<hex>` over the body under any of `keys`,
 * and `X-GitHub-Delivery` present (the deduplication key: GitHub signs no timestamp, so an identical
 * redelivery is recognised by its id, not by its age).
 */
export function verifyGithub(input: {
  headers: HeaderBag
  body: Uint8Array
  keys: readonly Uint8Array[]
}): SignatureCheck {
  const signature = header(input.headers, 'x-hub-signature-256')
  const delivery = header(input.headers, 'x-github-delivery')
  if (signature === undefined || signature === '') {
    return header(input.headers, 'x-hub-signature') === undefined
      ? fail('missing_header', 'the X-Hub-Signature-256 header is missing; give the GitHub webhook a secret')
      : fail(
          'unsupported_version',
          'only X-Hub-Signature (SHA-1) was sent; homeostat verifies X-Hub-Signature-256 (SHA-256)',
        )
  }
  if (typeof signature !== 'string')
    return fail('malformed_header', 'the X-Hub-Signature-256 header is sent more than once')
  const m = GITHUB_SIGNATURE.exec(signature)
  if (!m) return fail('malformed_header', 'X-Hub-Signature-256 must be `sha256=` followed by 64 hex digits')
  if (delivery === undefined || delivery === '')
    return fail('missing_header', 'the X-GitHub-Delivery header is missing (it identifies the delivery)')
  if (typeof delivery !== 'string' || !MESSAGE_ID.test(delivery))
    return fail('malformed_header', 'X-GitHub-Delivery must be 1 to 256 visible ASCII characters')
  const given = Buffer.from(m[1]!.toLowerCase(), 'hex')
  let matched = false
  for (const key of input.keys) {
    if (timingSafeEqual(given, createHmac('sha256', key).update(input.body).digest())) matched = true
  }
  if (!matched)
    return fail(
      'no_match',
      "X-Hub-Signature-256 does not match the body signed with the trigger's secret(s); check the secret set on GitHub",
    )
  return { ok: true, id: delivery }
}
