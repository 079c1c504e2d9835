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
