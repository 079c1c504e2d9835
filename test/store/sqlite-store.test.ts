import assert from 'node:assert/strict'
import { test } from 'node:test'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { applyMigrations } from '../../src/store/sqlite/migrations.ts'
import type { SqliteDb } from '../../src/store/sqlite/sqlite-driver.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/tmp.ts'
import { storeContract } from './store-contract.ts'

let n = 0
storeContract('sqlite', async () => {
  const store = new SqliteStore({ path: join(tempDir(), `store-${n++}.db`) })
  await store.migrate()
  return store
})

test('a file made before migrations were keyed by (version, name) is upgraded in place', () => {
  const db = new DatabaseSync(join(tempDir(), 'old-format.db')) as unknown as SqliteDb
  // what older builds made: version alone as the primary key, one migration applied
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
    CREATE TABLE a (x); INSERT INTO schema_migrations VALUES (1, 'area a', 0);`)
  const migrations = [
    { version: 1, name: 'area a', sql: 'CREATE TABLE a (x)' },
    { version: 1, name: 'area b', sql: 'CREATE TABLE b (x)' },
  ]
  const result = applyMigrations(db, migrations, 'old-format.db')
  assert.deepEqual(result.applied, ['1 area b'])
  assert.deepEqual(
    db
      .prepare('SELECT version, name FROM schema_migrations ORDER BY name')
      .all()
      .map((r) => `${Number(r.version)} ${String(r.name)}`),
    ['1 area a', '1 area b'],
  )
  const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'").get()
  assert.match(String(sql?.sql), /PRIMARY KEY \(version, name\)/)
  assert.deepEqual(applyMigrations(db, migrations, 'old-format.db').applied, [])
  db.close()
})

test('a store holding a migration this build does not know is refused, naming it', async () => {
  const path = join(tempDir(), 'newer.db')
  const store = new SqliteStore({ path })
  await store.migrate()
  store.handle
    .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
    .run(99, 'from the future', 0)
  await assert.rejects(store.migrate(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'HS_ERR_STORE_SCHEMA')
    assert.match(err.message, /99 from the future/)
    return true
  })
  await store.close()
})
