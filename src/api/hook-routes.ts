import type { FastifyInstance } from 'fastify'
import type { ErrorCode } from '../core/errors.ts'
import { problem, sendProblem } from './problem.ts'

/** One `POST /hooks/<path>`, handed to the webhook trigger with the body as the raw bytes received. */
export interface HookRequest {
  /** The URL path after `/hooks/` (percent-decoded). */
  path: string
  method: string
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
  query: Readonly<Record<string, unknown>>
  body: Uint8Array
  /** Aborted when the caller disconnects before the answer is sent. */
  signal: AbortSignal
}

/** The answer: JSON with a status, or a problem rendered as RFC 9457 problem JSON. */
export type HookAnswer =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { status: number; problem: { code: ErrorCode; detail: string; [extension: string]: unknown } }

/**
 * Verifies and answers one hook call. The API layer does not know triggers (adapters never import
 * each other): the composition root (`cli/serve-command.ts`) passes the webhook trigger's `handle`.
 */
export type HookHandler = (request: HookRequest) => Promise<HookAnswer>

/**
 * `POST /hooks/*`. In its own Fastify scope every content type is read as raw bytes (no JSON parser
 * runs before the signature is checked) up to `bodyBytes`; a larger body is refused with 413 before
 * the handler sees it.
 */
export function registerHookRoutes(
  app: FastifyInstance,
  deps: { handle: HookHandler; bodyBytes: number },
): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyBytes }, (_req, body, done) =>
      done(null, body),
    )
    scope.post('/hooks/*', { bodyLimit: deps.bodyBytes }, async (request, reply) => {
      const gone = new AbortController()
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort()
      })
      const answer = await deps.handle({
        path: (request.params as { '*': string })['*'],
        method: request.method,
        headers: request.headers,
        query: request.query as Record<string, unknown>,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        signal: gone.signal,
      })
      if ('problem' in answer) {
        const { code, detail, ...extra } = answer.problem
        return sendProblem(reply, problem(code, answer.status, detail, extra))
      }
      if (answer.headers) void reply.headers(answer.headers)
      return reply
        .code(answer.status)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(answer.body ?? null))
    })
  })
}
