import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { HsError } from '../../core/errors.ts'
import type { Redactor } from '../../core/redact.ts'
import type { SecretReader } from '../../core/secrets-port.ts'
import type { SqliteDb, SqlValue } from './sqlite-driver.ts'
import { immediateTransaction, StatementCache } from './sqlite-statements.ts'

/** Names usable as `{{ secrets.NAME }}`: a CEL identifier of at most 128 characters. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
/** Bounds of a value, in characters: short values cannot be redacted reliably. */
export const SECRET_VALUE_LENGTH = { min: 4, max: 65_536 } as const

const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

/** The 32-byte key values are encrypted with, and where it came from (for messages). */
export interface SecretKey {
  readonly key: Buffer
  /** `key file /path/secrets.key` or `HOMEOSTAT_SECRETS_KEY`. */
  readonly source: string
}

/**
 * Supplies the key on demand: `create` is true when a value is about to be encrypted, and a missing
 * key may then be made (first `secrets set`); otherwise a missing key throws `HS_ERR_SECRET_KEY`.
 */
export type SecretKeyLoader = (create: boolean) => SecretKey

export interface SecretInfo {
  name: string
  createdAt: number
  updatedAt: number
}

export interface SqliteSecretStoreOptions {
  key: SecretKeyLoader
  /** Learns every value this store decrypts, before the value is handed out. */
  redactor?: Redactor
  /** How often `syncRedactor` looks for changes made by other processes. Default 1000 ms. */
  checkIntervalMs?: number
  now?: () => number
  /** A problem redaction cannot act on (no key to read the values with); reported once per change. */
  onWarning?: (message: string) => void
}

const KEY_CHECK_LABEL = 'homeostat secrets key check/1'

function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_CHECK_LABEL).digest('hex').slice(0, 32)
}

/** Throws HS_ERR_SECRET_INVALID for a name `{{ secrets.NAME }}` could not reach. */
export function checkSecretName(name: string): void {
  if (!SECRET_NAME.test(name) || RESERVED.has(name))
    throw new HsError(
      'HS_ERR_SECRET_INVALID',
      `\`${name.slice(0, 140)}\` is not a secret name: use letters, digits and _, not starting with a digit, at most 128 characters (it is written {{ secrets.NAME }})`,
    )
}

/**
 * The secret store on the SQLite file of `SqliteStore` (`new SqliteSecretStore(store.handle, ...)`).
 * Each value is encrypted with AES-256-GCM under a random nonce, the name bound as associated data
 * (a value moved to another name no longer decrypts). Decrypted values are cached in memory until
 * the store's change counter moves (a set or remove here or in another process); `get` compares the
 * counter on every call (one indexed read), redaction every `checkIntervalMs`.
 */
export class SqliteSecretStore implements SecretReader {
  readonly #db: SqliteDb
  readonly #stmts: StatementCache
  readonly #key: SecretKeyLoader
  readonly #redactor: Redactor | undefined
  readonly #interval: number
  readonly #now: () => number
  readonly #warn: (message: string) => void
  #cache = new Map<string, string>()
  /** Counter value the cache reflects; -1: never loaded. */
  #loaded = -1
  /** Counter value a failed load was reported for (warn once per change). */
  #failed = -1
  #lastCheck = -Infinity
  #closed = false

  constructor(db: SqliteDb, options: SqliteSecretStoreOptions) {
    this.#db = db
    this.#stmts = new StatementCache(db)
    this.#key = options.key
    this.#redactor = options.redactor
    this.#interval = options.checkIntervalMs ?? 1000
    this.#now = options.now ?? Date.now
    this.#warn = options.onWarning ?? (() => {})
  }

  /** The change counter: bumped by every set and remove, in any process sharing the file. */
  version(): number {
    const row = this.#stmts.q('SELECT version FROM secret_meta WHERE id = 1').get()
    return row ? Number(row.version) : 0
  }

  /**
   * Stores `value` under `name` (encrypting it with the key, made on first use); returns whether
   * the secret is new. Throws HS_ERR_SECRET_INVALID for a bad name or value, HS_ERR_SECRET_KEY when
   * the key is not the one the stored secrets were encrypted with.
   */
  set(name: string, value: string): { created: boolean; updatedAt: number } {
    checkSecretName(name)
    if (
      typeof value !== 'string' ||
      value.length < SECRET_VALUE_LENGTH.min ||
      value.length > SECRET_VALUE_LENGTH.max
    )
      throw new HsError(
        'HS_ERR_SECRET_INVALID',
        `secret ${name}: the value must be ${SECRET_VALUE_LENGTH.min} to ${SECRET_VALUE_LENGTH.max} characters (got ${typeof value === 'string' ? value.length : typeof value}); shorter values cannot be redacted reliably`,
      )
    const { key, source } = this.#key(true)
    const check = keyCheck(key)
    const nonce = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, nonce)
    cipher.setAAD(Buffer.from(name, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    const now = this.#now()
    const created = immediateTransaction(this.#db, () => {
      const stored = this.#stmts.q('SELECT key_check FROM secret_meta WHERE id = 1').get()?.key_check
      if (typeof stored === 'string' && stored !== check) throw wrongKey(source)
      const existed = this.#stmts.q('SELECT 1 FROM secrets WHERE name = ?').get(name) !== undefined
      this.#stmts
        .q(
          `INSERT INTO secrets (name, nonce, ciphertext, tag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext,
             tag = excluded.tag, updated_at = excluded.updated_at`,
        )
        .run(name, nonce, ciphertext, tag, now, now)
      this.#stmts.q('UPDATE secret_meta SET version = version + 1, key_check = ? WHERE id = 1').run(check)
      return !existed
    })
    // the redactor knows the value before anything else can read it back
    this.#redactor?.remember(name, value)
    this.#loaded = -1
    return { created, updatedAt: now }
  }

  /** Deletes a secret; false when there was none. Values it had stay redacted in this process. */
  remove(name: string): boolean {
    return immediateTransaction(this.#db, () => {
      const { changes } = this.#stmts.q('DELETE FROM secrets WHERE name = ?').run(name)
      if (Number(changes) === 0) return false
      // with no secret left, a new key may be used from now on
      this.#stmts
        .q(
          `UPDATE secret_meta SET version = version + 1,
             key_check = CASE WHEN EXISTS (SELECT 1 FROM secrets) THEN key_check ELSE NULL END WHERE id = 1`,
        )
        .run()
      this.#loaded = -1
      return true
    })
  }

  /** Names and times of the stored secrets, by name; never their values. */
  list(): SecretInfo[] {
    return this.#stmts
      .q('SELECT name, created_at, updated_at FROM secrets ORDER BY name')
      .all()
      .map((r) => ({
        name: String(r.name),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      }))
  }

  /** Names of the stored secrets, sorted (no key needed). */
  names(): string[] {
    return this.list().map((s) => s.name)
  }

  /**
   * The decrypted value, or undefined when no secret has this name. Picks up changes made by any
   * process (one counter read per call). Throws HS_ERR_SECRET_KEY when the values cannot be
   * decrypted (key missing or not the one they were stored with).
   */
  get(name: string): string | undefined {
    this.#refresh()
    return this.#cache.get(name)
  }

  /**
   * Hands the redactor the values set since it last looked (by this or another process), at most
   * once per `checkIntervalMs`; the `sync` hook of the app's `Redactor`. Never throws: a key problem
   * is reported through `onWarning` once per change.
   */
  syncRedactor(): void {
    if (this.#closed) return
    const now = this.#now()
    if (this.#loaded >= 0 && now - this.#lastCheck < this.#interval) return
    this.#lastCheck = now
    try {
      this.#refresh()
    } catch (err) {
      const version = this.version()
      if (this.#failed !== version) {
        this.#failed = version
        this.#warn(`secrets cannot be redacted: ${(err as Error).message}`)
      }
      this.#loaded = version
    }
  }

  /** Stops syncing (the connection is about to close). */
  close(): void {
    this.#closed = true
    this.#stmts.clear()
  }

  #refresh(): void {
    const version = this.version()
    if (version === this.#loaded) return
    const rows = this.#stmts
      .arrays('SELECT name, nonce, ciphertext, tag FROM secrets')
      .all() as unknown as SqlValue[][]
    const values = new Map<string, string>()
    if (rows.length > 0) {
      const { key, source } = this.#key(false)
      const stored = this.#stmts.q('SELECT key_check FROM secret_meta WHERE id = 1').get()?.key_check
      if (typeof stored === 'string' && stored !== keyCheck(key)) throw wrongKey(source)
      for (const row of rows) {
        const [name, nonce, ciphertext, tag] = row as [SqlValue, SqlValue, SqlValue, SqlValue]
        values.set(String(name), decrypt(key, source, String(name), nonce, ciphertext, tag))
      }
    }
    for (const [name, value] of values) this.#redactor?.remember(name, value)
    this.#cache = values
    this.#loaded = version
    this.#lastCheck = this.#now()
  }
}

function decrypt(
  key: Buffer,
  source: string,
  name: string,
  nonce: SqlValue,
  ciphertext: SqlValue,
  tag: SqlValue,
): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce as Uint8Array)
    decipher.setAAD(Buffer.from(name, 'utf8'))
    decipher.setAuthTag(tag as Uint8Array)
    return Buffer.concat([decipher.update(ciphertext as Uint8Array), decipher.final()]).toString('utf8')
  } catch (err) {
    throw new HsError(
      'HS_ERR_SECRET_KEY',
      `secret ${name} cannot be decrypted with the key from ${source}: it was changed in the store, or stored with another key`,
      { cause: err },
    )
  }
}

function wrongKey(source: string): HsError {
  return new HsError(
    'HS_ERR_SECRET_KEY',
    `the key from ${source} is not the key the stored secrets were encrypted with; restore that key (or remove every secret to start over with a new one)`,
  )
}
