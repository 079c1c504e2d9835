import { NonRetryableError, type ErrorCode } from '../../core/errors.ts'

/**
 * A failure retrying cannot fix (a path outside the roots, a hostile git ref, a non-zero exit), with
 * the stable code of docs/errors.md. The engine fails the step at once; the code lands in the
 * step record (`toErrorRecord` keeps it).
 */
export class CodedNonRetryableError extends NonRetryableError {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/**
 * A failure that may pass on a later attempt (a missing file another step is still writing, a
 * command that timed out); the step's `retry` policy decides.
 */
export class CodedError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'Error'
    this.code = code
  }
}

/** The errno code of a Node system error (`ENOENT`, `ELOOP`, ...), if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
