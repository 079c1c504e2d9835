import { CodedError, CodedNonRetryableError } from '../coded-errors.ts'

export { CodedError, CodedNonRetryableError, CodedRetryAfterError } from '../coded-errors.ts'

/** The destination guard refused a URL (scheme, deny list, private/loopback/metadata address). */
export class DestinationDeniedError extends CodedNonRetryableError {
  constructor(message: string) {
    super('HS_ERR_HTTP_DESTINATION_DENIED', message)
    this.name = 'DestinationDeniedError'
  }
}

/** A response body grew past its cap; the transfer was cut. */
export class ResponseTooLargeError extends CodedNonRetryableError {
  constructor(message: string) {
    super('HS_ERR_HTTP_RESPONSE_TOO_LARGE', message)
    this.name = 'ResponseTooLargeError'
  }
}

/** The request took longer than its timeout (retryable). */
export class HttpTimeoutError extends CodedError {
  constructor(message: string) {
    super('HS_ERR_HTTP_TIMEOUT', message)
    this.name = 'HttpTimeoutError'
  }
}
