import { NonRetryableError, RetryAfterError, type ErrorCode } from '../core/errors.ts'

/**
 * Action errors carrying a stable `HS_ERR_*` code (kept in step records by `toErrorRecord`), in
 * the three kinds the engine acts on: never retry, retry with backoff, retry after a given delay.
 */
export class CodedNonRetryableError extends NonRetryableError {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** A transient failure: the step's `retry` policy may try again. */
export class CodedError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** A transient failure whose server said when to come back (`Retry-After`). */
export class CodedRetryAfterError extends RetryAfterError {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, retryAfterMs, options)
    this.code = code
  }
}
