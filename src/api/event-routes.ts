import type { FastifyInstance, FastifyRequest } from 'fastify'
import { HsError } from '../core/errors.ts'
import type { MeshStore } from '../core/mesh-port.ts'
import type { EventIngest, IngestResult } from '../mesh/ingest.ts'
import { problem, sendProblem } from './problem.ts'

export interface EventLimits {
  /** Most bytes of one request body (default 1 MiB). */
  bodyBytes: number
  /** Deepest nesting of arrays/objects in one event (default 32). */
  depth: number
  /** Most object keys in one event, counted over the whole tree (default 10,000). */
  keys: number
}

export const DEFAULT_EVENT_LIMITS: EventLimits = { bodyBytes: 1024 * 1024, depth: 32, keys: 10_000 }

/** Checks one parsed event against the nesting and key-count limits; returns the problem or undefined. */
export function structureProblem(value: unknown, limits: EventLimits): string | undefined {
  let keys = 0
  // two parallel stacks (values, their depths): no tuple per node on every request
  const values: unknown[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const v = values.pop()
    const depth = depths.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > limits.depth)
      return `nesting deeper than ${limits.depth} levels (limit: depth ${limits.depth})`
    if (Array.isArray(v)) {
      for (const item of v) {
        values.push(item)
        depths.push(depth + 1)
      }
      continue
    }
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue
      if (++keys > limits.keys) return `more than ${limits.keys} keys (limit: keys ${limits.keys})`
      values.push((v as Record<string, unknown>)[k])
      depths.push(depth + 1)
    }
  }
  return undefined
}

const CE_HEADER = /^ce-([a-z0-9]{1,20})$/

/** The HTTP binding's binary mode: attributes in `ce-*` headers, `data` in the body. */
function fromBinary(request: FastifyRequest): Record<string, unknown> {
  const event: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    const m = CE_HEADER.exec(name)
    if (m && typeof value === 'string') event[m[1]!] = decodeURIComponent(value)
  }
  const contentType = request.headers['content-type']
  if (contentType) event.datacontenttype = contentType.split(';')[0]!.trim()
  if (request.body !== undefined && request.body !== null && request.body !== '') event.data = request.body
  return event
}

function statusFor(results: IngestResult[], batch: boolean): number {
  if (!batch) {
    const r = results[0]!
    return r.status === 'invalid' ? 400 : r.status === 'rejected' ? 422 : 202
  }
  return results.every((r) => r.status === 'accepted' || r.status === 'duplicate') ? 202 : 207
}

function body(r: IngestResult): Record<string, unknown> {
  switch (r.status) {
    case 'accepted':
      return { status: r.status, id: r.id, source: r.source, type: r.type, seq: r.seq, runs: r.runIds }
    case 'duplicate':
      return { status: r.status, id: r.id, source: r.source, type: r.type, seq: r.seq, runs: [] }
    case 'rejected':
      return {
        status: r.status,
        id: r.id,
        source: r.source,
        type: r.type,
        rejectedId: r.rejectedId,
        errors: r.problems,
      }
    case 'invalid':
      return { status: r.status, errors: r.problems }
  }
}

/**
 * `POST /events` in the CloudEvents HTTP binding's structured, binary and batch modes, plus plain JSON
 * `{type, data, source?, id?}`; `GET /events/recent`. A 202 is sent only after the events are stored.
 */
export function registerEventRoutes(
  app: FastifyInstance,
  deps: { ingest: EventIngest; mesh: MeshStore; limits: EventLimits },
): void {
  const json = (
    _req: FastifyRequest,
    raw: string,
    done: (err: Error | null, body?: unknown) => void,
  ): void => {
    if (raw === '') return done(null, undefined)
    try {
      done(null, JSON.parse(raw))
    } catch (err) {
      done(new HsError('HS_ERR_EVENT_INVALID', `malformed JSON: ${(err as Error).message}`))
    }
  }
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser(
    ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'],
    { parseAs: 'string' },
    json,
  )

  app.post('/events', async (request, reply) => {
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    const binary =
      typeof request.headers['ce-type'] === 'string' || typeof request.headers['ce-specversion'] === 'string'
    let bodies: unknown[]
    let batch = false
    if (binary) bodies = [fromBinary(request)]
    else if (contentType === 'application/cloudevents-batch+json') {
      if (!Array.isArray(request.body))
        return sendProblem(
          reply,
          problem('HS_ERR_EVENT_INVALID', 400, 'a batch must be a JSON array of events'),
        )
      bodies = request.body
      batch = true
    } else if (contentType === 'application/cloudevents+json' || contentType === 'application/json') {
      if (request.body === undefined)
        return sendProblem(reply, problem('HS_ERR_EVENT_INVALID', 400, 'the body is empty: send an event'))
      bodies = [request.body]
    } else {
      return sendProblem(
        reply,
        problem(
          'HS_ERR_EVENT_CONTENT_TYPE',
          415,
          `content type ${contentType || '(none)'} is not accepted on /events`,
        ),
      )
    }
    for (const [i, b] of bodies.entries()) {
      const limit = structureProblem(b, deps.limits)
      if (limit)
        return sendProblem(
          reply,
          problem('HS_ERR_EVENT_LIMIT', 400, `event${batch ? ` ${i}` : ''}: ${limit}`),
        )
    }
    const results = await deps.ingest.submit(bodies, 'http')
    const status = statusFor(results, batch)
    if (!batch && status !== 202) {
      const r = results[0]! as Extract<IngestResult, { status: 'invalid' | 'rejected' }>
      const code = r.status === 'invalid' ? 'HS_ERR_EVENT_INVALID' : 'HS_ERR_EVENT_SCHEMA'
      const detail =
        r.status === 'invalid'
          ? 'the event is not a valid CloudEvent'
          : `the event's data does not match the schema of ${r.type}; it was kept as rejected event ${r.rejectedId}`
      return sendProblem(
        reply,
        problem(code, status, detail, {
          errors: r.problems,
          ...(r.status === 'rejected' ? { rejectedId: r.rejectedId } : {}),
        }),
      )
    }
    return reply.code(status).send(batch ? { results: results.map(body) } : body(results[0]!))
  })

  app.get('/events/recent', async (request) => {
    const q = request.query as { event_type?: string; limit?: string; before?: string }
    const limit = Math.min(500, Math.max(1, Number(q.limit ?? 50) || 50))
    const events = await deps.mesh.recentEvents({
      type: q.event_type,
      limit,
      beforeSeq: q.before ? Number(q.before) : undefined,
    })
    return {
      events: events.map((e) => ({
        seq: e.seq,
        receivedAt: new Date(e.receivedAt).toISOString(),
        via: e.via,
        runs: e.runs,
        ...e.event,
      })),
      next: events.length === limit ? events.at(-1)!.seq : null,
    }
  })
}
