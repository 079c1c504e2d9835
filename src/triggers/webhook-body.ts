import type { HeaderBag } from './webhook-signature.ts'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Most nesting and keys a JSON body may have (the ingest's limits). */
export interface BodyLimits {
  depth: number
  keys: number
}

/**
 * The body as the event carries it, read only after the signature passed and only as its
 * Content-Type declares: JSON (`application/json`, `*+json`) parsed and held to the nesting and key
 * limits; a form decoded into fields; other text as a string; bytes that are not UTF-8 as base64.
 */
export function parseWebhookBody(
  request: { headers: HeaderBag; body: Uint8Array },
  limits: BodyLimits,
): { body: unknown; encoding?: 'base64' } | { problem: string } {
  const raw = request.body
  if (raw.length === 0) return { body: null }
  const declared = request.headers['content-type']
  const media = (typeof declared === 'string' ? declared : '').split(';')[0]!.trim().toLowerCase()
  let text: string
  try {
    text = utf8.decode(raw)
  } catch {
    if (media === 'application/json' || media.endsWith('+json'))
      return { problem: `the body is declared ${media} but is not UTF-8 text` }
    return { body: Buffer.from(raw).toString('base64'), encoding: 'base64' }
  }
  if (media === 'application/json' || media.endsWith('+json')) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      return { problem: `the body is declared ${media} but is not JSON: ${(err as Error).message}` }
    }
    const over = overLimits(value, limits)
    return over ? { problem: `the JSON body has ${over}` } : { body: value }
  }
  if (media === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string | string[]> = {}
    for (const [k, v] of new URLSearchParams(text)) {
      const had = fields[k]
      fields[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v]
    }
    return { body: fields }
  }
  return { body: text }
}

/** Whether a parsed JSON value is deeper or has more keys than allowed (the ingest's limits). */
function overLimits(value: unknown, limits: BodyLimits): string | undefined {
  let keys = 0
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > limits.depth) return `nesting deeper than ${limits.depth} levels`
    const children = Array.isArray(v) ? v : Object.values(v)
    if (!Array.isArray(v) && (keys += children.length) > limits.keys) return `more than ${limits.keys} keys`
    for (const child of children) stack.push([child, depth + 1])
  }
  return undefined
}
