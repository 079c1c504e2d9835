/**
 * Read access to the secret store (`homeostat secrets set|list|rm`). Values are decrypted on demand;
 * callers never log them: every string a secret's value appears in is redacted before it is stored,
 * printed or sent (see `Redactor`).
 */
export interface SecretReader {
  /** The decrypted value, or undefined when no secret has this name. */
  get(name: string): string | undefined
  /** Names of the stored secrets, sorted. */
  names(): string[]
}

/** A reader with no secrets, for tests and tools that do not need any. */
export const NO_SECRETS: SecretReader = { get: () => undefined, names: () => [] }
