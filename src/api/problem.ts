import type { FastifyReply } from 'fastify'
import { ERROR_CODES, HsError, type ErrorCode } from '../core/errors.ts'

/** RFC 9457 problem details, carrying the stable error code of docs/errors.md. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  fix?: string
  errors?: Array<{ pointer: string; message: string }>
  [extension: string]: unknown
}

export function problem(
  code: ErrorCode,
  status: number,
  detail: string,
  extra: Partial<Problem> = {},
): Problem {
  const known = (ERROR_CODES as Record<string, { status: number; fix: string }>)[code]
  return {
    type: `https://homeostat.dev/errors/${code}`,
    title: code
      .replace(/^HS_ERR_/, '')
      .replace(/_/g, ' ')
      .toLowerCase(),
    status,
    detail,
    code,
    ...(known ? { fix: known.fix } : {}),
    ...extra,
  }
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p)
}

/** Maps anything thrown by a handler to a problem: HsError by its code, the rest as 500 without internals. */
export function problemFromError(err: unknown): Problem {
  if (err instanceof HsError) {
    return problem(
      err.code,
      ERROR_CODES[err.code].status,
      err.message,
      Array.isArray(err.details) ? { errors: err.details as Problem['errors'] } : {},
    )
  }
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return problem(
      'HS_ERR_EVENT_TOO_LARGE',
      413,
      `the request body is larger than the limit (${e.message ?? ''})`,
    )
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return problem('HS_ERR_EVENT_CONTENT_TYPE', 415, e.message ?? 'unsupported content type')
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return problem('HS_ERR_BAD_REQUEST', e.statusCode, e.message ?? 'bad request')
  }
  return problem('HS_ERR_INTERNAL', 500, 'internal error; the server log has the details')
}
