import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { TurnTransaction } from '../../src/store/sqlite/sqlite-statements.ts'
import { tempDir } from '../helpers/tmp.ts'

function db(): DatabaseSync {
  const d = new DatabaseSync(join(tempDir(), 'turn.db'))
  d.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT PRIMARY KEY)')
  return d
}
const rows = (d: DatabaseSync): string[] =>
  (d.prepare('SELECT v FROM t ORDER BY v').all() as Array<{ v: string }>).map((r) => r.v)

test('the writes asked for in one turn share one transaction; a failing part is rolled back alone', async () => {
  const d = db()
  const turn = new TurnTransaction(d)
  const insert = d.prepare('INSERT INTO t (v) VALUES (?)')
  const results = await Promise.allSettled([
    turn.run(() => insert.run('a').changes),
    turn.run(() => {
      insert.run('b')
      insert.run('a') // duplicate key: this part fails, and its own 'b' goes with it
    }),
    turn.run(() => insert.run('c').changes),
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/)
  assert.deepEqual(rows(d), ['a', 'c'])
  assert.equal(turn.commits, 1, 'one transaction for the three parts')
  assert.equal(d.isTransaction, false)
})

test('a collector runs at the start of the turn and the writes it starts join that turn', async () => {
  const d = db()
  const turn = new TurnTransaction(d)
  const insert = d.prepare('INSERT INTO t (v) VALUES (?)')
  let collected: Promise<unknown> | undefined
  const direct = turn.run(() => insert.run('x'))
  turn.collect(() => {
    collected = turn.run(() => insert.run('y'))
  })
  await direct
  assert.ok(collected, 'the collector ran before the turn was written')
  await collected
  assert.deepEqual(rows(d), ['x', 'y'])
  assert.equal(turn.commits, 1)
  // nothing asked for: no transaction
  turn.collect(() => undefined)
  await new Promise((r) => setImmediate(r))
  assert.equal(turn.commits, 1)
})

test('a turn whose commit fails fails every part and leaves nothing behind', async () => {
  const d = db()
  d.exec(
    'CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)',
  )
  d.exec('PRAGMA foreign_keys = ON')
  const turn = new TurnTransaction(d)
  const results = await Promise.allSettled([
    turn.run(() => d.prepare('INSERT INTO t (v) VALUES (?)').run('kept?')),
    // a deferred foreign key violation is found only at COMMIT
    turn.run(() => d.prepare('INSERT INTO child (p) VALUES (42)').run()),
  ])
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  )
  assert.deepEqual(rows(d), [])
  assert.equal(d.isTransaction, false)
})
