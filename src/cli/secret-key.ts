import { randomBytes } from 'node:crypto'
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { HsError } from '../core/errors.ts'
import { Redactor } from '../core/redact.ts'
import type { SqliteDb } from '../store/sqlite/sqlite-driver.ts'
import {
  SqliteSecretStore,
  type SecretKey,
  type SecretKeyLoader,
} from '../store/sqlite/sqlite-secret-store.ts'
import type { Config } from './config.ts'

/** The environment variable holding the key (base64 of 32 bytes); it wins over the key file. */
export const SECRETS_KEY_ENV = 'HOMEOSTAT_SECRETS_KEY'

const KEY_BYTES = 32

function badKey(where: string, detail: string): HsError {
  return new HsError(
    'HS_ERR_SECRET_KEY',
    `${where}: ${detail}; a key is 32 random bytes in base64 (make one with \`openssl rand -base64 32\`)`,
  )
}

/** A key written as base64 text (what homeostat writes), or 32 raw bytes. */
function decodeKey(bytes: Buffer, where: string): Buffer {
  if (bytes.length === KEY_BYTES && !/^[A-Za-z0-9+/=\s]*$/.test(bytes.toString('latin1'))) return bytes
  const text = bytes.toString('utf8').trim()
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw badKey(where, 'not base64')
  const key = Buffer.from(text, 'base64')
  if (key.length !== KEY_BYTES) throw badKey(where, `decodes to ${key.length} bytes, not ${KEY_BYTES}`)
  return key
}

/** Writes a new key file (mode 0600, never over an existing file); another process may win the race. */
function createKeyFile(file: string): Buffer | undefined {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const key = randomBytes(KEY_BYTES)
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw new HsError('HS_ERR_SECRET_KEY', `cannot create the key file ${file}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  try {
    fchmodSync(fd, 0o600)
    writeSync(fd, `${key.toString('base64')}\n`)
  } finally {
    closeSync(fd)
  }
  return key
}

/**
 * Where the secret key comes from: `HOMEOSTAT_SECRETS_KEY` (base64) when set, else `keyFile`, which
 * is created (32 random bytes, base64, mode 0600) the first time a secret is stored. The key is read
 * once and kept for the life of the loader. `warn` hears about a key file others can read.
 */
export function secretKeyLoader(
  keyFile: string,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void = () => {},
): SecretKeyLoader {
  let loaded: SecretKey | undefined
  return (create) => {
    if (loaded) return loaded
    const fromEnv = env[SECRETS_KEY_ENV]
    if (fromEnv !== undefined && fromEnv !== '') {
      loaded = { key: decodeKey(Buffer.from(fromEnv, 'utf8'), SECRETS_KEY_ENV), source: SECRETS_KEY_ENV }
      return loaded
    }
    const source = `key file ${keyFile}`
    let bytes: Buffer | undefined
    try {
      const mode = statSync(keyFile).mode & 0o077
      if (mode !== 0) warn(`${keyFile} can be read by other users; run \`chmod 600 ${keyFile}\``)
      bytes = readFileSync(keyFile)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new HsError('HS_ERR_SECRET_KEY', `cannot read ${source}: ${(err as Error).message}`, {
          cause: err,
        })
    }
    if (bytes === undefined) {
      if (!create)
        throw new HsError(
          'HS_ERR_SECRET_KEY',
          `no key to decrypt the secrets with: ${keyFile} does not exist and ${SECRETS_KEY_ENV} is not set`,
        )
      const made = createKeyFile(keyFile)
      bytes = made === undefined ? readFileSync(keyFile) : Buffer.from(`${made.toString('base64')}\n`)
    }
    loaded = { key: decodeKey(bytes, keyFile), source }
    return loaded
  }
}

/** The secret store and the redactor it feeds, as the app holds them. */
export interface AppSecrets {
  readonly store: SqliteSecretStore
  readonly redactor: Redactor
}

/**
 * Opens the secret store on the app's SQLite connection with the configured key, and the redactor
 * every output of the process goes through (it learns values as the store decrypts them, and asks
 * the store for changes made elsewhere before redacting; see `SqliteSecretStore.syncRedactor`).
 * A readable key file is logged as a warning; values that cannot be decrypted for redaction (no key
 * in this process) as info: what the store holds was redacted when it was written.
 */
export function openSecrets(
  config: Config,
  db: SqliteDb,
  env: Readonly<Record<string, string | undefined>>,
  log: (level: 'info' | 'warn', message: string) => void,
): AppSecrets {
  let store: SqliteSecretStore | undefined
  const redactor = new Redactor({ sync: () => store?.syncRedactor() })
  store = new SqliteSecretStore(db, {
    key: secretKeyLoader(config.secrets.keyFile, env, (message) => log('warn', message)),
    redactor,
    onWarning: (message) => log('info', message),
  })
  return { store, redactor }
}
