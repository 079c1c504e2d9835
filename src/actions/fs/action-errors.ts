/** Errors with a stable code (docs/errors.md), shared by every action family. */
export { CodedError, CodedNonRetryableError } from '../coded-errors.ts'

/** The errno code of a Node system error (`ENOENT`, `ELOOP`, ...), if it is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
