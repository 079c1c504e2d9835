import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts'
import { WalCheckpointer } from '../../src/store/sqlite/wal-checkpointer.ts'
import { tempDir } from '../helpers/tmp.ts'

/** A writer on its own thread committing small transactions 0.3 ms apart, as the server's main thread does once per turn. */
const WRITER = `
const { workerData, parentPort } = require('node:worker_threads')
const { DatabaseSync } = require('node:sqlite')
const db = new DatabaseSync(workerData.path)
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0')
const insert = db.prepare('INSERT INTO t (v) VALUES (?)')
const pause = new Int32Array(new SharedArrayBuffer(4))
for (let i = 0; i < workerData.commits; i++) {
  db.exec('BEGIN IMMEDIATE')
  for (let j = 0; j < 8; j++) insert.run('x'.repeat(400) + i)
  db.exec('COMMIT')
  // the rest of an event-loop turn: the write lock is free until the next commit
  Atomics.wait(pause, 0, 0, workerData.pauseMs)
}
db.close()
parentPort.postMessage('done')
`

test('under steady writes from another thread, the WAL restarts and stays bounded (PASSIVE alone let it grow without end)', async () => {
  const path = join(tempDir('homeostat-wal-'), 'store.db')
  const setup = new DatabaseSync(path)
  setup.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  setup.close()
  const commits = 3000
  const checkpointer = new WalCheckpointer(openSqlite(path, 'process'), {
    restartFrames: 256,
    catchUpFrames: 32,
  })
  const writer = new Worker(WRITER, { eval: true, workerData: { path, commits, pauseMs: 0.3 } })
  const done = new Promise<void>((resolve, reject) => {
    writer.once('message', () => resolve())
    writer.once('error', reject)
  })
  let finished = false
  void done.then(() => (finished = true))
  let largestWal = 0
  while (!finished) {
    checkpointer.tick()
    largestWal = Math.max(largestWal, statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)
    await new Promise((r) => setTimeout(r, 10))
  }
  await done
  // tens of MB of frames went through the WAL in all (PASSIVE alone left it at 44 MB here)
  assert.ok(checkpointer.restarts >= 1, 'the WAL was restarted')
  assert.ok(largestWal < 8 * 1024 * 1024, `the WAL stayed small: at most ${largestWal} bytes`)
  const check = new DatabaseSync(path)
  assert.equal((check.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, commits * 8)
  assert.equal(
    (check.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    'ok',
  )
  check.close()
})

test('a short WAL gets a PASSIVE checkpoint only: every frame copied back, no restart', () => {
  const path = join(tempDir('homeostat-wal-'), 'store.db')
  const db = openSqlite(path, 'process')
  db.exec('PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (v TEXT)')
  db.prepare('INSERT INTO t VALUES (?)').run('a')
  const checkpointer = new WalCheckpointer(openSqlite(path, 'process'))
  const tick = checkpointer.tick()
  assert.equal(tick.restarted, false)
  assert.ok(tick.log > 0)
  assert.equal(tick.checkpointed, tick.log, 'every frame was copied back')
  assert.equal(checkpointer.restarts, 0)
})
