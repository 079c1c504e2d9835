import assert from 'node:assert/strict'
import { createHash, createPublicKey } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { entryPreimage, GENESIS_HASH, hashEntry } from '../../src/audit/audit-hash.ts'
import {
  checkpointSignatureValid,
  checkpointStatement,
  loadOrCreateAuditKey,
} from '../../src/audit/audit-keys.ts'
import { AuditLog } from '../../src/audit/audit-log.ts'
import { merkleRoot } from '../../src/audit/merkle.ts'
import type { AuditEntry, AuditStore } from '../../src/core/audit-port.ts'
import { canonicalJson } from '../../src/core/canonical-json.ts'
import { SqliteAuditStore } from '../../src/store/sqlite/sqlite-audit-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/tmp.ts'
import { openLog, traceEntry } from './audit-helpers.ts'

const all = (log: AuditLog): Promise<AuditEntry[]> => log.query({})
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('a fresh store has the audit tables and indexes (migration 3)', async () => {
  const { store, close } = await openLog(tempDir())
  const names = store.handle
    .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'audit%' ORDER BY name")
    .all()
    .map((r) => r.name)
  assert.deepEqual(names, [
    'audit_checkpoints',
    'audit_log',
    'audit_log_by_at',
    'audit_log_by_component',
    'audit_log_by_run',
    'audit_log_by_type',
    'audit_log_by_workflow',
  ])
  const version = store.handle.prepare('SELECT max(version) AS v FROM schema_migrations').get()!.v
  assert.ok(Number(version) >= 3)
  await close()
})

test('entries are chained: seq 1.. without gaps, each prevHash is the previous hash, each hash covers the entry', async () => {
  const { log, close } = await openLog(tempDir())
  for (let i = 0; i < 25; i++) log.append(traceEntry(i))
  const entries = await all(log)
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 25 }, (_, i) => i + 1),
  )
  let prev = GENESIS_HASH
  for (const e of entries) {
    assert.equal(e.prevHash, prev)
    // the hash, computed independently: SHA-256(0x00 || canonical JSON of the hashed members)
    const { hash: _hash, ...hashed } = e
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(canonicalJson(hashed))]))
      .digest('hex')
    assert.equal(e.hash, expected, `entry ${e.seq}`)
    prev = e.hash
  }
  assert.deepEqual(entries[2], {
    seq: 3,
    ...traceEntry(2),
    prevHash: entries[1]!.hash,
    hash: entries[2]!.hash,
  })
  await close()
})

test('the hand-built preimage is exactly canonicalJson of the hashed members, whatever is present', () => {
  const optional = ['actor', 'workflowId', 'runId', 'eventId', 'component'] as const
  const strings = ['x', '', 'ünïcødé ✓', 'quote " and \\ backslash', 'line\nbreak', '\u2028', '😀']
  for (let mask = 0; mask < 64; mask++) {
    const e: Record<string, unknown> = {
      seq: mask + 1,
      type: 'step.executed',
      at: 1.5e12 + mask,
      prevHash: 'ab'.repeat(32),
    }
    optional.forEach((k, i) => {
      if (mask & (1 << i)) e[k] = strings[(mask + i) % strings.length]
    })
    const data =
      mask & 32 ? { z: 1, a: [1, 'two', null, { y: true, b: -0.5 }], '10': 'ten', '2': 'two' } : undefined
    if (data) e.data = data
    const preimage = entryPreimage(e as never, data === undefined ? undefined : canonicalJson(data))
    assert.equal(preimage, canonicalJson(e), `mask ${mask}`)
  }
})

test('writeEveryMs: a steady stream is written at most once per window; flush writes at once', async () => {
  const { log, close } = await openLog(tempDir(), { checkpointEvery: 0, writeEveryMs: 60 })
  log.append(traceEntry(0))
  await log.flush() // the first write opens a window
  await turn() // (the append's own scheduled drain finds nothing left)
  assert.equal(log.commits, 1)
  for (let t = 0; t < 5; t++) {
    log.append(traceEntry(1 + t))
    await turn()
    await turn()
  }
  assert.equal(log.committedSize, 1, 'entries inside the window wait for it to close')
  // the window's timer writes them (however late a loaded machine fires it)
  for (let i = 0; i < 200 && log.committedSize < 6; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(log.committedSize, 6)
  assert.equal(log.commits, 2, 'five turns of entries: one transaction')
  log.append(traceEntry(6))
  await log.flush()
  assert.equal(log.committedSize, 7, 'flush does not wait for the window')
  assert.deepEqual((await log.verify()).ok, true)
  await close()
})

test('group commit: every append of one event-loop turn is written in one transaction', async () => {
  const { log, close } = await openLog(tempDir(), { checkpointEvery: 0 })
  for (let i = 0; i < 500; i++) log.append(traceEntry(i))
  assert.equal(log.committedSize, 0, 'nothing is written before the turn ends')
  assert.equal(log.size, 500)
  await log.flush()
  assert.equal(log.commits, 1)
  assert.equal(log.entriesWritten, 500)
  for (let t = 0; t < 3; t++) {
    for (let i = 0; i < 10; i++) log.append(traceEntry(500 + t * 10 + i))
    await turn()
    await turn()
  }
  await log.flush()
  assert.equal(log.commits, 4, 'one transaction per turn')
  const entries = await all(log)
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 530 }, (_, i) => i + 1),
  )
  assert.deepEqual((await log.verify()).ok, true)
  await close()
})

test('query filters by type, workflow, run, component and time range, newest first with a limit, and pages', async () => {
  const { log, close } = await openLog(tempDir())
  const t0 = 1_700_000_000_000
  for (let i = 0; i < 60; i++) log.append(traceEntry(i, t0 + i * 60_000))
  const seqs = async (filter: Parameters<AuditLog['query']>[0]): Promise<number[]> =>
    (await log.query(filter)).map((e) => e.seq)

  assert.deepEqual(await seqs({ type: 'workflow.completed' }), [10, 20, 30, 40, 50, 60])
  assert.deepEqual(await seqs({ type: ['run.started', 'workflow.completed'], runId: 'run-1' }), [13, 20])
  assert.deepEqual(await seqs({ workflowId: 'wf-1', type: 'run.started' }), [13, 43])
  assert.deepEqual(await seqs({ runId: 'run-2', type: 'step.executed' }), [24, 25, 26, 27, 28, 29])
  const withComponent = Array.from({ length: 60 }, (_, i) => i)
    .filter((i) => traceEntry(i).component === 'db-primary')
    .map((i) => i + 1)
  assert.ok(withComponent.length > 3)
  assert.deepEqual(await seqs({ component: 'db-primary' }), withComponent)
  // since is inclusive, until exclusive (entry i is at t0 + i minutes, seq i + 1)
  assert.deepEqual(await seqs({ since: t0 + 50 * 60_000, until: t0 + 53 * 60_000 }), [51, 52, 53])
  assert.deepEqual(await seqs({ type: 'step.executed', limit: 3, order: 'desc' }), [59, 58, 57])
  assert.deepEqual(
    await seqs({ type: 'step.executed', limit: 3, order: 'desc', beforeSeq: 57 }),
    [56, 55, 54],
  )
  assert.deepEqual(await seqs({ limit: 2, afterSeq: 58 }), [59, 60])
  assert.deepEqual(await seqs({ type: 'no.such.type' }), [])

  const [completed] = await log.query({ type: 'workflow.completed', runId: 'run-0' })
  assert.deepEqual(completed!.data, {
    workflow_name: 'wf-0',
    status: 'succeeded',
    successful_actions: 6,
    total_actions: 6,
  })
  await close()
})

test('data is kept as it was at append time, as JSON: later changes to the object, NaN, Dates', async () => {
  const { log, close } = await openLog(tempDir())
  const data = { attempts: 1, ratio: Number.NaN, when: new Date(0), list: [undefined, 1], gone: undefined }
  log.append({ type: 'step.executed', at: 1, data, actor: 'lone \ud800 surrogate', component: null as never })
  data.attempts = 99
  const [entry] = await all(log)
  assert.deepEqual(entry!.data, { attempts: 1, ratio: null, when: {}, list: [null, 1] })
  assert.equal(entry!.actor, 'lone \ufffd surrogate')
  assert.equal('component' in entry!, false)
  log.append({ type: 'x', at: 2, data: null })
  log.append({ type: 'x', at: 3, data: 'text' })
  const entries = await all(log)
  assert.equal(entries[1]!.data, null)
  assert.equal(entries[2]!.data, 'text')
  assert.equal((await log.verify()).ok, true)
  await close()
})

test('append refuses an entry without a type or a finite time, and anything after close', async () => {
  const { log, close } = await openLog(tempDir())
  assert.throws(() => log.append({ type: '', at: 1 }), TypeError)
  assert.throws(() => log.append({ type: 'x', at: Number.NaN }), TypeError)
  assert.throws(() => log.append({ type: 'x', at: 1, runId: 42 as never }), TypeError)
  assert.equal(log.size, 0)
  await close()
  assert.throws(() => log.append({ type: 'x', at: 1 }), /closed/)
  await log.close()
})

test('checkpoints: every N entries, on demand, on close; the root is the Merkle tree of the entry hashes', async () => {
  const dir = tempDir()
  let now = 1_800_000_000_000
  const { log, audit, close } = await openLog(dir, { checkpointEvery: 10, now: () => now++ })
  for (let i = 0; i < 35; i++) {
    log.append(traceEntry(i))
    await turn()
  }
  await log.flush()
  assert.deepEqual(
    (await audit.listCheckpoints()).map((c) => c.treeSize),
    [10, 20, 30],
  )
  const manual = await log.checkpoint()
  assert.equal(manual.treeSize, 35)
  assert.equal(await log.checkpoint(), manual, 'nothing new: the last checkpoint again')
  log.append(traceEntry(35))
  await close()
  const raw = new SqliteStore({ path: join(dir, 'store.db') })
  const checkpoints = await new SqliteAuditStore(raw.handle).listCheckpoints()
  await raw.close()
  assert.deepEqual(
    checkpoints.map((c) => c.treeSize),
    [10, 20, 30, 35, 36],
  )

  const reopened = await openLog(dir)
  const hashes = (await reopened.log.query({})).map((e) => Buffer.from(e.hash, 'hex'))
  const key = loadOrCreateAuditKey(reopened.keyFile)
  for (const c of checkpoints) {
    assert.equal(c.rootHash, merkleRoot(hashes.slice(0, c.treeSize)).toString('hex'), `root of ${c.treeSize}`)
    assert.equal(checkpointSignatureValid(c, key.publicKey), true)
    assert.equal(c.keyId, key.keyId)
  }
  const result = await reopened.log.verify()
  assert.deepEqual(result, { ok: true, entries: 36, checkpointsVerified: 5, signedSize: 36, unsignedTail: 0 })
  await reopened.close()
})

test('a checkpoint timer signs unsigned entries (unref’d; close stops it)', async () => {
  const { log, audit, close } = await openLog(tempDir(), { checkpointEvery: 0, checkpointIntervalMs: 25 })
  log.append(traceEntry(0))
  await log.flush()
  for (let i = 0; i < 100 && (await audit.listCheckpoints()).length === 0; i++) await sleep(10)
  assert.deepEqual(
    (await audit.listCheckpoints()).map((c) => c.treeSize),
    [1],
  )
  await close()
})

test('reopening resumes the chain and the tree from the last checkpoint, or rebuilds the tree without one', async () => {
  const dir = tempDir()
  const first = await openLog(dir)
  for (let i = 0; i < 30; i++) first.log.append(traceEntry(i))
  await first.close()

  const second = await openLog(dir)
  assert.equal(second.log.size, 30)
  for (let i = 30; i < 40; i++) second.log.append(traceEntry(i))
  assert.equal((await second.log.checkpoint()).treeSize, 40)
  await second.close()

  // a checkpoint without its saved range (or with a useless one): the tree is rebuilt from the entries
  const raw = new SqliteStore({ path: join(dir, 'store.db') })
  raw.handle.exec('UPDATE audit_checkpoints SET compact_range = \'["00"]\'')
  await raw.close()
  const third = await openLog(dir)
  for (let i = 40; i < 45; i++) third.log.append(traceEntry(i))
  const c = await third.log.checkpoint()
  const hashes = (await third.log.query({})).map((e) => Buffer.from(e.hash, 'hex'))
  assert.equal(c.rootHash, merkleRoot(hashes).toString('hex'))
  assert.equal((await third.log.verify()).ok, true)
  await third.close()
})

test('two writers on one file (two processes) never fork the chain: the later one re-chains after the other', async () => {
  const dir = tempDir()
  const a = await openLog(dir, { checkpointEvery: 7 })
  const b = await openLog(dir, { checkpointEvery: 7 })
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 4; i++) a.log.append({ type: 'step.executed', at: round, actor: 'a', data: { i } })
    for (let i = 0; i < 3; i++) b.log.append({ type: 'step.executed', at: round, actor: 'b', data: { i } })
    await Promise.all([a.log.flush(), b.log.flush()])
  }
  const entries = await a.log.query({})
  assert.equal(entries.length, 35)
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 35 }, (_, i) => i + 1),
  )
  assert.equal(entries.filter((e) => e.actor === 'a').length, 20)
  const [ra, rb] = [await a.log.verify(), await b.log.verify()]
  assert.equal(ra.ok, true, JSON.stringify(ra))
  assert.equal(rb.ok, true, JSON.stringify(rb))
  await a.close()
  await b.close()
  const again = await openLog(dir)
  assert.deepEqual(await again.log.verify(), {
    ok: true,
    entries: 35,
    checkpointsVerified: (await again.audit.listCheckpoints()).length,
    signedSize: 35,
    unsignedTail: 0,
  })
  await again.close()
})

test('a failing store keeps the entries queued: flush rejects, and the next flush writes them in order', async () => {
  const dir = tempDir()
  const store = new SqliteStore({ path: join(dir, 'store.db') })
  await store.migrate()
  const real = new SqliteAuditStore(store.handle)
  let failures = 1
  const flaky: AuditStore = {
    appendAudit: async (records) => {
      if (failures-- > 0) throw new Error('disk full')
      return real.appendAudit(records)
    },
    lastAudit: () => real.lastAudit(),
    readAudit: (from, limit) => real.readAudit(from, limit),
    queryAudit: (filter) => real.queryAudit(filter),
    auditCount: () => real.auditCount(),
    putCheckpoint: (c, range) => real.putCheckpoint(c, range),
    listCheckpoints: () => real.listCheckpoints(),
    lastCheckpoint: () => real.lastCheckpoint(),
  }
  const errors: unknown[] = []
  const log = await AuditLog.open({
    store: flaky,
    signer: loadOrCreateAuditKey(join(dir, 'k.pem')),
    checkpointIntervalMs: 0,
    onError: (err) => errors.push(err),
  })
  log.append({ type: 'a', at: 1 })
  await turn()
  await turn()
  assert.equal(errors.length, 1)
  log.append({ type: 'b', at: 2 })
  await log.flush()
  assert.deepEqual(
    (await log.query({})).map((e) => [e.seq, e.type]),
    [
      [1, 'a'],
      [2, 'b'],
    ],
  )
  assert.equal((await log.verify()).ok, true)
  await log.close()
  await store.close()
})

test('the key file is generated once, mode 0600; keyId is the first 16 hex digits of SHA-256 of the public key', () => {
  const dir = tempDir()
  const path = join(dir, 'keys', 'audit-ed25519.pem')
  const created = loadOrCreateAuditKey(path)
  assert.equal(created.created, true)
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.match(readFileSync(path, 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
  const again = loadOrCreateAuditKey(path)
  assert.equal(again.created, false)
  assert.equal(again.publicKey, created.publicKey)
  const der = createPublicKey(created.publicKey).export({ type: 'spki', format: 'der' })
  assert.equal(created.keyId, createHash('sha256').update(der).digest('hex').slice(0, 16))
  assert.equal(createPublicKey(created.publicKey).asymmetricKeyType, 'ed25519')
})

test('a checkpoint signature covers its size, root and time, and names its key', () => {
  const key = loadOrCreateAuditKey(join(tempDir(), 'k.pem'))
  const other = loadOrCreateAuditKey(join(tempDir(), 'k.pem'))
  const signed = {
    treeSize: 5,
    rootHash: 'ab'.repeat(32),
    at: 1_800_000_000_000,
    keyId: key.keyId,
    signature: key.sign(
      checkpointStatement({ treeSize: 5, rootHash: 'ab'.repeat(32), at: 1_800_000_000_000 }),
    ),
  }
  assert.equal(
    checkpointStatement(signed),
    `homeostat audit log\n5\n${Buffer.from('ab'.repeat(32), 'hex').toString('base64')}\ntime 1800000000000\n`,
  )
  assert.equal(checkpointSignatureValid(signed, key.publicKey), true)
  assert.equal(checkpointSignatureValid({ ...signed, treeSize: 4 }, key.publicKey), false)
  assert.equal(checkpointSignatureValid({ ...signed, rootHash: 'ac'.repeat(32) }, key.publicKey), false)
  assert.equal(checkpointSignatureValid({ ...signed, at: signed.at + 1 }, key.publicKey), false)
  assert.equal(checkpointSignatureValid({ ...signed, signature: 'AAAA' }, key.publicKey), false)
  assert.equal(checkpointSignatureValid(signed, other.publicKey), false)
  assert.equal(checkpointSignatureValid({ ...signed, keyId: other.keyId }, other.publicKey), false)
})

test('exportCheckpoints gives the public key and every checkpoint; verify takes it back', async () => {
  const { log, close } = await openLog(tempDir())
  for (let i = 0; i < 12; i++) log.append(traceEntry(i))
  await log.checkpoint()
  log.append(traceEntry(12))
  await log.checkpoint()
  const exported = await log.exportCheckpoints()
  assert.equal(exported.format, 'homeostat-audit-checkpoints/1')
  assert.match(exported.publicKey, /^-----BEGIN PUBLIC KEY-----/)
  assert.deepEqual(
    exported.checkpoints.map((c) => c.treeSize),
    [12, 13],
  )
  const copy = JSON.parse(JSON.stringify(exported)) as typeof exported
  assert.deepEqual(await log.verify({ checkpoints: copy.checkpoints, publicKey: copy.publicKey }), {
    ok: true,
    entries: 13,
    checkpointsVerified: 4,
    signedSize: 13,
    unsignedTail: 0,
  })
  assert.equal(hashEntry((await log.query({}))[0]!), (await log.query({}))[0]!.hash)
  await close()
})
