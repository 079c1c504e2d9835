import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { secretKeyLoader, SECRETS_KEY_ENV } from '../../src/cli/secret-key.ts'
import { Redactor } from '../../src/core/redact.ts'
import { SqliteSecretStore } from '../../src/store/sqlite/sqlite-secret-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/tmp.ts'

async function open(
  dir: string,
  env: Record<string, string> = {},
  options: { redactor?: Redactor; checkIntervalMs?: number; warnings?: string[] } = {},
) {
  const store = new SqliteStore({ path: join(dir, 'store.db') })
  await store.migrate()
  const secrets = new SqliteSecretStore(store.handle, {
    key: secretKeyLoader(join(dir, 'secrets.key'), env, (m) => options.warnings?.push(m)),
    ...(options.redactor ? { redactor: options.redactor } : {}),
    checkIntervalMs: options.checkIntervalMs ?? 0,
    onWarning: (m) => options.warnings?.push(m),
  })
  return {
    store,
    secrets,
    close: async () => {
      secrets.close()
      await store.close()
    },
  }
}

function fileBytes(dir: string): Buffer {
  return Buffer.concat(
    ['store.db', 'store.db-wal', 'store.db-shm']
      .map((f) => join(dir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f)),
  )
}

const codeOf = (code: string, text?: RegExp) => (err: unknown) => {
  assert.equal((err as { code?: string }).code, code, (err as Error).message)
  if (text) assert.match((err as Error).message, text)
  return true
}

test('set, get, list and rm; list shows names and times, never values', async () => {
  const dir = tempDir()
  const { secrets, close } = await open(dir)
  assert.deepEqual(secrets.set('API_KEY', 'sk-test-0001'), {
    created: true,
    updatedAt: secrets.list()[0]!.updatedAt,
  })
  assert.equal(secrets.set('API_KEY', 'sk-test-0002').created, false)
  secrets.set('DB_PASSWORD', 'correct horse battery')
  assert.equal(secrets.get('API_KEY'), 'sk-test-0002')
  assert.equal(secrets.get('DB_PASSWORD'), 'correct horse battery')
  assert.equal(secrets.get('NOPE'), undefined)
  const list = secrets.list()
  assert.deepEqual(
    list.map((s) => s.name),
    ['API_KEY', 'DB_PASSWORD'],
  )
  assert.equal(JSON.stringify(list).includes('sk-test'), false)
  assert.deepEqual(secrets.names(), ['API_KEY', 'DB_PASSWORD'])
  assert.equal(secrets.remove('API_KEY'), true)
  assert.equal(secrets.remove('API_KEY'), false)
  assert.equal(secrets.get('API_KEY'), undefined)
  await close()
})

test('values are encrypted at rest: the database and WAL hold no plaintext, and each write uses a new nonce', async () => {
  const dir = tempDir()
  const { store, secrets, close } = await open(dir)
  const value = `plain-${randomBytes(8).toString('hex')}`
  secrets.set('TOKEN', value)
  const first = store.handle.prepare('SELECT nonce, ciphertext FROM secrets').get()!
  secrets.set('TOKEN', value)
  const second = store.handle.prepare('SELECT nonce, ciphertext FROM secrets').get()!
  assert.notDeepEqual(first.nonce, second.nonce)
  assert.notDeepEqual(first.ciphertext, second.ciphertext)
  assert.equal(fileBytes(dir).includes(value), false)
  await close()
  assert.equal(fileBytes(dir).includes(value), false)
})

test('the name is bound to the value: a value copied to another name does not decrypt', async () => {
  const dir = tempDir()
  const { store, secrets, close } = await open(dir)
  secrets.set('PROD', 'prod-value-1')
  secrets.set('DEV', 'dev-value-1')
  store.handle.exec(
    `UPDATE secrets SET (nonce, ciphertext, tag) = (SELECT nonce, ciphertext, tag FROM secrets WHERE name = 'PROD') WHERE name = 'DEV';
     UPDATE secret_meta SET version = version + 1`,
  )
  assert.throws(() => secrets.get('PROD'), codeOf('HS_ERR_SECRET_KEY', /secret DEV cannot be decrypted/))
  await close()
})

test('a tampered ciphertext is refused, naming the secret', async () => {
  const dir = tempDir()
  const { store, secrets, close } = await open(dir)
  secrets.set('TOKEN', 'tamper-me-please')
  const row = store.handle.prepare('SELECT ciphertext FROM secrets').get()!
  const bytes = Buffer.from(row.ciphertext as Uint8Array)
  bytes[0]! ^= 1
  store.handle.prepare('UPDATE secrets SET ciphertext = ?').run(bytes)
  store.handle.exec('UPDATE secret_meta SET version = version + 1')
  assert.throws(() => secrets.get('TOKEN'), codeOf('HS_ERR_SECRET_KEY', /TOKEN/))
  await close()
})

test('the key file is made on the first set only, with mode 0600, holding 32 bytes in base64', async () => {
  const dir = tempDir()
  const { secrets, close } = await open(dir)
  secrets.list()
  secrets.get('X')
  assert.equal(existsSync(join(dir, 'secrets.key')), false, 'reading needs no key')
  secrets.set('X', 'value-x1')
  const file = join(dir, 'secrets.key')
  assert.equal(statSync(file).mode & 0o777, 0o600)
  assert.equal(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').length, 32)
  await close()
})

test('HOMEOSTAT_SECRETS_KEY is used instead of the key file; another key is refused by name', async () => {
  const dir = tempDir()
  const key = randomBytes(32).toString('base64')
  const a = await open(dir, { [SECRETS_KEY_ENV]: key })
  a.secrets.set('TOKEN', 'env-keyed-1')
  assert.equal(existsSync(join(dir, 'secrets.key')), false)
  await a.close()
  const same = await open(dir, { [SECRETS_KEY_ENV]: key })
  assert.equal(same.secrets.get('TOKEN'), 'env-keyed-1')
  await same.close()
  const other = await open(dir, { [SECRETS_KEY_ENV]: randomBytes(32).toString('base64') })
  assert.throws(
    () => other.secrets.get('TOKEN'),
    codeOf('HS_ERR_SECRET_KEY', /HOMEOSTAT_SECRETS_KEY is not the key/),
  )
  assert.throws(() => other.secrets.set('MORE', 'mixed-keys'), codeOf('HS_ERR_SECRET_KEY'))
  await other.close()
  const noKey = await open(dir)
  assert.throws(() => noKey.secrets.get('TOKEN'), codeOf('HS_ERR_SECRET_KEY', /does not exist/))
  await noKey.close()
  const bad = await open(dir, { [SECRETS_KEY_ENV]: 'c2hvcnQ=' })
  assert.throws(() => bad.secrets.get('TOKEN'), codeOf('HS_ERR_SECRET_KEY', /decodes to 5 bytes/))
  await bad.close()
})

test('a key file others can read is reported; a malformed key file is refused', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'secrets.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 })
  const warnings: string[] = []
  const a = await open(dir, {}, { warnings })
  a.secrets.set('T', 'value-1234')
  assert.match(warnings.join('\n'), /can be read by other users; run `chmod 600/)
  await a.close()
  const dir2 = tempDir()
  writeFileSync(join(dir2, 'secrets.key'), 'not a key!', { mode: 0o600 })
  const b = await open(dir2)
  assert.throws(() => b.secrets.set('T', 'value-1234'), codeOf('HS_ERR_SECRET_KEY', /not base64/))
  await b.close()
})

test('a change made through another connection (another process) is seen at the next read', async () => {
  const dir = tempDir()
  const a = await open(dir)
  const b = await open(dir)
  a.secrets.set('SHARED', 'version-one')
  assert.equal(b.secrets.get('SHARED'), 'version-one')
  a.secrets.set('SHARED', 'version-two')
  assert.equal(b.secrets.get('SHARED'), 'version-two')
  a.secrets.remove('SHARED')
  assert.equal(b.secrets.get('SHARED'), undefined)
  await a.close()
  await b.close()
})

test('the redactor learns values as they are set or decrypted, here and from other processes', async () => {
  const dir = tempDir()
  const writer = await open(dir)
  const redactor = new Redactor({ sync: () => reader.secrets.syncRedactor() })
  const reader = await open(dir, {}, { redactor })
  assert.equal(redactor.redactText('nothing yet'), 'nothing yet')
  writer.secrets.set('REMOTE', 'set-elsewhere-1')
  assert.equal(redactor.redactText('x set-elsewhere-1 y'), 'x [secret:REMOTE] y')
  reader.secrets.set('LOCAL', 'set-here-0001')
  assert.equal(redactor.redactText('set-here-0001'), '[secret:LOCAL]')
  writer.secrets.set('REMOTE', 'rotated-value-2')
  assert.equal(redactor.redactText('set-elsewhere-1 rotated-value-2'), '[secret:REMOTE] [secret:REMOTE]')
  await writer.close()
  await reader.close()
})

test('bad names and too short values are refused before anything is stored', async () => {
  const dir = tempDir()
  const { secrets, close } = await open(dir)
  for (const name of [
    '',
    '1ABC',
    'has-dash',
    'has space',
    'a.b',
    '__proto__',
    'constructor',
    'x'.repeat(129),
  ])
    assert.throws(() => secrets.set(name, 'long enough'), codeOf('HS_ERR_SECRET_INVALID'), name)
  assert.throws(() => secrets.set('SHORT', 'abc'), codeOf('HS_ERR_SECRET_INVALID', /4 to 65536 characters/))
  assert.throws(() => secrets.set('HUGE', 'x'.repeat(65_537)), codeOf('HS_ERR_SECRET_INVALID'))
  assert.deepEqual(secrets.list(), [])
  assert.equal(existsSync(join(dir, 'secrets.key')), false)
  await close()
})

test('once every secret is removed, a new key may be used', async () => {
  const dir = tempDir()
  const a = await open(dir, { [SECRETS_KEY_ENV]: randomBytes(32).toString('base64') })
  a.secrets.set('T', 'first-key-1')
  a.secrets.remove('T')
  await a.close()
  const b = await open(dir, { [SECRETS_KEY_ENV]: randomBytes(32).toString('base64') })
  b.secrets.set('T', 'second-key-1')
  assert.equal(b.secrets.get('T'), 'second-key-1')
  await b.close()
})
