import assert from 'node:assert/strict'
import { test } from 'node:test'
import { join } from 'node:path'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/tmp.ts'
import { storeContract } from './store-contract.ts'

let n = 0
storeContract('sqlite', async () => {
  const store = new SqliteStore({ path: join(tempDir(), `store-${n++}.db`) })
  await store.migrate()
  return store
})

test('a store made before migrations were keyed by (version, name) is upgraded in place', async () => {
  const path = join(tempDir(), 'old-format.db')
  const first = new SqliteStore({ path })
  await first.migrate()
  const names = first.handle.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()
  // rewrite the table the way older builds made it: version alone as the primary key
  first.handle
    .exec(`CREATE TABLE m2 (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
    INSERT INTO m2 SELECT version, name, applied_at FROM schema_migrations; DROP TABLE schema_migrations;
    ALTER TABLE m2 RENAME TO schema_migrations;`)
  await first.close()
  const again = new SqliteStore({ path })
  const result = await again.migrate()
  assert.deepEqual(result.applied, [])
  assert.deepEqual(
    again.handle.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all(),
    names,
  )
  const sql = again.handle.prepare("SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'").get()
  assert.match(String(sql?.sql), /PRIMARY KEY \(version, name\)/)
  await again.close()
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
