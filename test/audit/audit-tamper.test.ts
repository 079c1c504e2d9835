import assert from 'node:assert/strict'
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { hashEntry } from '../../src/audit/audit-hash.ts'
import { loadOrCreateAuditKey, signCheckpoint } from '../../src/audit/audit-keys.ts'
import { AuditLog, type AuditCheckpointExport } from '../../src/audit/audit-log.ts'
import {
  verifyAuditLog,
  type AuditVerifyOptions,
  type AuditVerifyResult,
} from '../../src/audit/audit-verify.ts'
import { CompactRange } from '../../src/audit/merkle.ts'
import type { AuditEntry } from '../../src/core/audit-port.ts'
import { SqliteAuditStore } from '../../src/store/sqlite/sqlite-audit-store.ts'
import type { SqliteDb } from '../../src/store/sqlite/sqlite-driver.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/tmp.ts'
import { openLog, traceEntry } from './audit-helpers.ts'

/**
 * The tampering test of the issue. A log of 60 entries is written through AuditLog, with signed
 * checkpoints after entry 20 and entry 50 (entries 51..60 are not signed yet) and an export of those
 * checkpoints kept "elsewhere". Each case changes a copy of the SQLite file directly, as an attacker
 * with write access to the file would, and verification must name the first bad entry and why.
 */
const dir = tempDir()
const BASE = join(dir, 'base.db')
const base = await openLog(dir, { checkpointEvery: 0, checkpointOnClose: false }, 'base.db')
for (let i = 0; i < 20; i++) base.log.append(traceEntry(i))
await base.log.checkpoint()
for (let i = 20; i < 50; i++) base.log.append(traceEntry(i))
await base.log.checkpoint()
for (let i = 50; i < 60; i++) base.log.append(traceEntry(i))
const exported: AuditCheckpointExport = JSON.parse(JSON.stringify(await base.log.exportCheckpoints()))
const external: AuditVerifyOptions = { checkpoints: exported.checkpoints, publicKey: exported.publicKey }
await base.close()
assert.equal(existsSync(`${BASE}-wal`), false, 'the base file is complete on its own')

let copies = 0

/** A copy of the base file, changed by `attack` through a plain node:sqlite connection. */
function tampered(attack: (db: DatabaseSync, rows: AuditEntry[]) => void | Promise<void>): Promise<string> {
  const file = `case-${++copies}.db`
  copyFileSync(BASE, join(dir, file))
  const db = new DatabaseSync(join(dir, file))
  const read = (): AuditEntry[] =>
    (db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Array<Record<string, never>>).map(rowToEntry)
  return Promise.resolve(attack(db, read())).then(() => {
    db.close()
    return file
  })
}

function rowToEntry(r: Record<string, string | number | null>): AuditEntry {
  const e: AuditEntry = {
    seq: Number(r.seq),
    type: r.type as string,
    at: Number(r.at),
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  }
  if (r.actor !== null) e.actor = r.actor as string
  if (r.workflow_id !== null) e.workflowId = r.workflow_id as string
  if (r.run_id !== null) e.runId = r.run_id as string
  if (r.event_id !== null) e.eventId = r.event_id as string
  if (r.component !== null) e.component = r.component as string
  if (r.data !== null) e.data = JSON.parse(r.data as string)
  return e
}

function insertRow(db: DatabaseSync, e: AuditEntry): void {
  db.prepare(
    `INSERT INTO audit_log (seq, type, at, actor, workflow_id, run_id, event_id, component, data, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    e.seq,
    e.type,
    e.at,
    e.actor ?? null,
    e.workflowId ?? null,
    e.runId ?? null,
    e.eventId ?? null,
    e.component ?? null,
    e.data === undefined ? null : JSON.stringify(e.data),
    e.prevHash,
    e.hash,
  )
}

/** Rewrites entries from `from` on with recomputed hashes and links, as someone who knows the format would. */
function rewriteFrom(db: DatabaseSync, rows: AuditEntry[], from: number): void {
  let prev = rows[from - 2]?.hash ?? '0'.repeat(64)
  const update = db.prepare('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?')
  for (const row of rows.filter((r) => r.seq >= from)) {
    const data = row.seq === from ? { forged: true } : row.data
    const hash = hashEntry({ ...row, data, prevHash: prev })
    update.run(data === undefined ? null : JSON.stringify(data), prev, hash, row.seq)
    prev = hash
  }
}

/** Moves rows `from..to` to `seq + by` (through negative numbers: seq is the primary key). */
function renumber(db: DatabaseSync, from: number, by: number, to = Number.MAX_SAFE_INTEGER): void {
  db.prepare('UPDATE audit_log SET seq = -(seq + ?) WHERE seq BETWEEN ? AND ?').run(by, from, to)
  db.exec('UPDATE audit_log SET seq = -seq WHERE seq < 0')
}

/** Verifies a copy with the key of `keyFile` (default: the key that signed the base log). */
async function verify(
  file: string,
  options: AuditVerifyOptions = {},
  keyFile = join(dir, 'audit-ed25519.pem'),
): Promise<AuditVerifyResult> {
  const store = new SqliteStore({ path: join(dir, file) })
  try {
    const log = await AuditLog.open({
      store: new SqliteAuditStore(store.handle),
      signer: loadOrCreateAuditKey(keyFile),
      checkpointEvery: 0,
      checkpointIntervalMs: 0,
      checkpointOnClose: false,
    })
    const result = await log.verify(options)
    await log.close()
    return result
  } finally {
    await store.close()
  }
}

function assertBad(result: AuditVerifyResult, seq: number, reason: string): void {
  assert.equal(result.ok, false, `expected ${reason} at ${seq}, got ${JSON.stringify(result)}`)
  if (result.ok) return
  assert.deepEqual(
    { seq: result.firstBad.seq, reason: result.firstBad.reason },
    { seq, reason },
    result.firstBad.message,
  )
  assert.match(result.firstBad.message, new RegExp(`\\b${seq}\\b`))
}

test('the untouched log verifies, with and without the exported checkpoints', async () => {
  const file = await tampered(() => {})
  assert.deepEqual(await verify(file), {
    ok: true,
    entries: 60,
    checkpointsVerified: 2,
    signedSize: 50,
    unsignedTail: 10,
  })
  assert.deepEqual(await verify(file, external), {
    ok: true,
    entries: 60,
    checkpointsVerified: 4,
    signedSize: 50,
    unsignedTail: 10,
  })
})

test('(a) one entry’s data modified → modified, at that entry', async () => {
  const file = await tampered((db) =>
    db.exec(`UPDATE audit_log SET data = '{"result":"FAILURE"}' WHERE seq = 30`),
  )
  assertBad(await verify(file), 30, 'modified')
})

test('(a′) a modified type, time, actor or hash → modified, at that entry', async () => {
  for (const change of [
    "type = 'run.cancelled'",
    'at = at + 1',
    "actor = 'mallory'",
    "workflow_id = 'wf-9'",
    "hash = 'f' || substr(hash, 2)",
  ]) {
    const file = await tampered((db) => db.exec(`UPDATE audit_log SET ${change} WHERE seq = 33`))
    assertBad(await verify(file), 33, 'modified')
  }
})

test('(b) data modified and its hash recomputed → the next entry’s link names it as modified', async () => {
  const file = await tampered((db, rows) => {
    const row = rows[29]!
    const data = { result: 'FAILURE' }
    db.prepare('UPDATE audit_log SET data = ?, hash = ? WHERE seq = 30').run(
      JSON.stringify(data),
      hashEntry({ ...row, data }),
    )
  })
  assertBad(await verify(file), 30, 'modified')
})

test('(c) a middle entry deleted → deleted, at the missing seq', async () => {
  const file = await tampered((db) => db.exec('DELETE FROM audit_log WHERE seq = 30'))
  assertBad(await verify(file), 30, 'deleted')
  const several = await tampered((db) => db.exec('DELETE FROM audit_log WHERE seq BETWEEN 30 AND 32'))
  assertBad(await verify(several), 30, 'deleted')
})

test('(c′) an entry deleted and the rest renumbered → deleted', async () => {
  const file = await tampered((db) => {
    db.exec('DELETE FROM audit_log WHERE seq = 30')
    renumber(db, 31, -1)
  })
  assertBad(await verify(file), 30, 'deleted')
})

test('(d) two entries’ seq swapped → reordered, at the first of them', async () => {
  const file = await tampered((db) => {
    db.exec('UPDATE audit_log SET seq = -1 WHERE seq = 25')
    db.exec('UPDATE audit_log SET seq = 25 WHERE seq = 35')
    db.exec('UPDATE audit_log SET seq = 35 WHERE seq = -1')
  })
  assertBad(await verify(file), 25, 'reordered')
  const adjacent = await tampered((db) => {
    db.exec('UPDATE audit_log SET seq = -1 WHERE seq = 44')
    db.exec('UPDATE audit_log SET seq = 44 WHERE seq = 45')
    db.exec('UPDATE audit_log SET seq = 45 WHERE seq = -1')
  })
  assertBad(await verify(adjacent), 44, 'reordered')
})

test('(d′) one entry moved earlier, the ones between shifted → reordered', async () => {
  const file = await tampered((db) => {
    db.exec('UPDATE audit_log SET seq = 1000 WHERE seq = 40')
    renumber(db, 30, 1, 39)
    db.exec('UPDATE audit_log SET seq = 30 WHERE seq = 1000')
  })
  assertBad(await verify(file), 30, 'reordered')
})

test('(e) a forged entry inserted in the middle, the rest renumbered → inserted, at the forged entry', async () => {
  const forged = (rows: AuditEntry[]): AuditEntry => {
    const unsealed = {
      seq: 30,
      type: 'step.executed',
      at: rows[28]!.at + 1,
      data: { forged: true },
      prevHash: rows[28]!.hash,
    }
    return { ...unsealed, hash: hashEntry(unsealed) }
  }
  // a forger who knows the format: the forged entry itself hashes and links correctly
  const careful = await tampered((db, rows) => {
    renumber(db, 30, 1)
    insertRow(db, forged(rows))
  })
  assertBad(await verify(careful), 30, 'inserted')
  // a careless one
  const careless = await tampered((db, rows) => {
    renumber(db, 30, 1)
    insertRow(db, { ...forged(rows), hash: 'ab'.repeat(32) })
  })
  assertBad(await verify(careless), 30, 'inserted')
  // renumbered and re-hashed followers, chained to the real predecessor
  const rehashed = await tampered((db, rows) => {
    renumber(db, 30, 1)
    insertRow(db, forged(rows))
    const moved = rows[29]!
    db.prepare('UPDATE audit_log SET hash = ? WHERE seq = 31').run(hashEntry({ ...moved, seq: 31 }))
  })
  assertBad(await verify(rehashed), 30, 'inserted')
})

test('(f) a forged entry appended with a correct chain verifies, but is reported as not signed', async () => {
  // Decision (docs/audit.md): an entry after the last checkpoint is indistinguishable from a real one
  // until a checkpoint covers it; verify says how many entries no signature covers.
  const file = await tampered((db, rows) => {
    const last = rows.at(-1)!
    const unsealed = {
      seq: 61,
      type: 'workflow.completed',
      at: last.at + 1,
      data: { status: 'succeeded' },
      prevHash: last.hash,
    }
    insertRow(db, { ...unsealed, hash: hashEntry(unsealed) })
  })
  assert.deepEqual(await verify(file, external), {
    ok: true,
    entries: 61,
    checkpointsVerified: 4,
    signedSize: 50,
    unsignedTail: 11,
  })
})

test('(g) the last entries truncated and the checkpoints deleted → only an exported checkpoint detects it', async () => {
  const file = await tampered((db) => {
    db.exec('DELETE FROM audit_log WHERE seq > 40')
    db.exec('DELETE FROM audit_checkpoints')
  })
  // the threat model, stated by a test: the stored data alone cannot show a clean cut
  assert.deepEqual(await verify(file), {
    ok: true,
    entries: 40,
    checkpointsVerified: 0,
    signedSize: 0,
    unsignedTail: 40,
  })
  assertBad(await verify(file, external), 41, 'truncated')
  // the stored checkpoint catches it when it is left in place
  const kept = await tampered((db) => db.exec('DELETE FROM audit_log WHERE seq > 40'))
  assertBad(await verify(kept), 41, 'truncated')
})

test('(h) the chain rewritten consistently from before a checkpoint → root mismatch, after the last good checkpoint', async () => {
  const file = await tampered((db, rows) => rewriteFrom(db, rows, 30))
  assertBad(await verify(file), 21, 'root_mismatch')
  assertBad(await verify(file, external), 21, 'root_mismatch')
  // a rewrite of the unsigned tail only is not detectable (the threat model again)
  const tail = await tampered((db, rows) => rewriteFrom(db, rows, 55))
  assert.equal((await verify(tail, external)).ok, true)
})

test('(h′) rewritten and re-signed with the stolen key → only the exported checkpoints detect it', async () => {
  const file = await tampered((db, rows) => {
    rewriteFrom(db, rows, 30)
    const key = loadOrCreateAuditKey(join(dir, 'audit-ed25519.pem'))
    db.exec('DELETE FROM audit_checkpoints')
    const range = new CompactRange()
    const forgedRows = (
      db.prepare('SELECT hash FROM audit_log ORDER BY seq').all() as Array<{ hash: string }>
    ).map((r) => r.hash)
    forgedRows.forEach((hash, i) => {
      range.append(hash)
      if (i + 1 === 20 || i + 1 === 50) {
        const c = signCheckpoint(key, { treeSize: i + 1, rootHash: range.root(), at: Date.now() })
        db.prepare(
          'INSERT INTO audit_checkpoints (tree_size, root_hash, at, key_id, signature) VALUES (?, ?, ?, ?, ?)',
        ).run(c.treeSize, c.rootHash, c.at, c.keyId, c.signature)
      }
    })
  })
  assert.equal((await verify(file)).ok, true)
  assertBad(await verify(file, external), 21, 'root_mismatch')
})

test('a stored checkpoint altered or forged → bad signature, at its tree size', async () => {
  const file = await tampered((db) =>
    db.exec(`UPDATE audit_checkpoints SET root_hash = '${'0'.repeat(64)}' WHERE tree_size = 50`),
  )
  assertBad(await verify(file), 50, 'bad_signature')
  const moved = await tampered((db) =>
    db.exec('UPDATE audit_checkpoints SET tree_size = 45 WHERE tree_size = 50'),
  )
  assertBad(await verify(moved), 45, 'bad_signature')
})

test('a replaced key file → the stored checkpoints are not trusted, unless the exported key vouches for them', async () => {
  const file = await tampered(() => {})
  const otherKeys = tempDir()
  const result = await verify(file, {}, join(otherKeys, 'other.pem'))
  assertBad(result, 20, 'bad_signature')
  assert.match(result.ok ? '' : result.firstBad.message, /not trusted/)
  assert.equal((await verify(file, external, join(otherKeys, 'other.pem'))).ok, true)
})

test('an exported file that was itself altered → bad signature', async () => {
  const file = await tampered(() => {})
  const altered = external.checkpoints!.map((c) => (c.treeSize === 20 ? { ...c, treeSize: 21 } : c))
  assertBad(await verify(file, { ...external, checkpoints: altered }), 21, 'bad_signature')
})

/** A small deterministic PRNG, so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('tamper campaign: 300 random changes are all detected against an exported checkpoint of the whole log', async () => {
  const campaignDir = tempDir()
  const opened = await openLog(campaignDir, { checkpointEvery: 0, checkpointOnClose: false })
  for (let i = 0; i < 80; i++) opened.log.append(traceEntry(i))
  await opened.log.checkpoint()
  const exp = await opened.log.exportCheckpoints()
  const options: AuditVerifyOptions = { checkpoints: exp.checkpoints, publicKey: exp.publicKey }
  await opened.close()

  const db = new DatabaseSync(join(campaignDir, 'store.db'))
  const store = new SqliteAuditStore(db as unknown as SqliteDb)
  const random = prng(6962)
  const pick = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
  const rows = (db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Array<Record<string, never>>).map(
    rowToEntry,
  )
  const kinds: Array<[string, () => void]> = [
    [
      'edit data',
      () => db.prepare(`UPDATE audit_log SET data = '{"n":${pick(0, 9)}}' WHERE seq = ?`).run(pick(1, 80)),
    ],
    [
      'edit a byte of the type',
      () => db.prepare("UPDATE audit_log SET type = type || '.' WHERE seq = ?").run(pick(1, 80)),
    ],
    ['edit the time', () => db.prepare('UPDATE audit_log SET at = at - 1 WHERE seq = ?').run(pick(1, 80))],
    [
      'edit a hash',
      () =>
        db
          .prepare("UPDATE audit_log SET hash = replace(hash, substr(hash, 7, 1), 'x') WHERE seq = ?")
          .run(pick(1, 80)),
    ],
    [
      'edit a link',
      () =>
        db
          .prepare("UPDATE audit_log SET prev_hash = 'x' || substr(prev_hash, 2) WHERE seq = ?")
          .run(pick(1, 80)),
    ],
    ['delete', () => db.prepare('DELETE FROM audit_log WHERE seq = ?').run(pick(1, 80))],
    [
      'swap',
      () => {
        const x = pick(1, 79)
        const other = Math.min(80, x + pick(1, 10))
        db.prepare('UPDATE audit_log SET seq = -1 WHERE seq = ?').run(x)
        db.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(x, other)
        db.prepare('UPDATE audit_log SET seq = ? WHERE seq = -1').run(other)
      },
    ],
    [
      'insert',
      () => {
        const at = pick(2, 80)
        renumber(db, at, 1)
        const unsealed = { seq: at, type: 'forged', at: 1, prevHash: rows[at - 2]!.hash }
        insertRow(db, { ...unsealed, hash: hashEntry(unsealed) })
      },
    ],
    ['truncate', () => db.prepare('DELETE FROM audit_log WHERE seq > ?').run(pick(0, 79))],
    ['rewrite the suffix', () => rewriteFrom(db, rows, pick(1, 80))],
  ]
  const missed: string[] = []
  for (let i = 0; i < 300; i++) {
    const [kind, mutate] = kinds[i % kinds.length]!
    db.exec('BEGIN')
    try {
      mutate()
      db.exec('DELETE FROM audit_checkpoints')
      const result = await verifyAuditLog(store, undefined, options)
      if (result.ok) missed.push(`#${i} ${kind}`)
    } finally {
      db.exec('ROLLBACK')
    }
  }
  assert.deepEqual(missed, [])
  assert.equal((await verifyAuditLog(store, undefined, options)).ok, true, 'every change was rolled back')
  db.close()
})
