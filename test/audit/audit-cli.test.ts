import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { openAuditLog } from '../../src/cli/audit-commands.ts'
import type { AuditEntry } from '../../src/core/audit-port.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'
import { openLog, traceEntry } from './audit-helpers.ts'

/** A project whose store holds 100 audit entries written through the library, checkpointed every 40. */
async function project(): Promise<string> {
  const dir = tempDir()
  writeFileSync(join(dir, 'homeostat.yaml'), 'store: data/store.db\n')
  mkdirSync(join(dir, 'data'))
  const store = new SqliteStore({ path: join(dir, 'data', 'store.db') })
  await store.migrate()
  const audit = await openAuditLog(
    { dataDir: join(dir, 'data') },
    { checkpointEvery: 40, checkpointIntervalMs: 0 },
  )
  const now = Date.now()
  for (let i = 0; i < 100; i++) {
    audit.append(traceEntry(i, now - (100 - i) * 60_000))
    if (i % 10 === 9) await audit.flush()
  }
  await audit.close()
  await store.close()
  return dir
}

function sql(dir: string, statement: string): void {
  const db = new DatabaseSync(join(dir, 'data', 'audit.db'))
  db.exec(statement)
  db.close()
}

test(
  'homeostat audit verify, query, checkpoint and export on a real store file',
  { timeout: 60_000 },
  async () => {
    const dir = await project()
    const help = await runCli(['audit', '--help'], dir)
    assert.equal(
      help.code,
      0,
      `the audit commands are not wired: src/cli/main.ts needs registerAuditCommands(program)\n${help.stderr}`,
    )

    const intact = await runCli(['audit', 'verify'], dir)
    assert.equal(intact.code, 0, intact.stdout + intact.stderr)
    assert.match(intact.stdout, /audit log intact: 100 entries, 3 signed checkpoint\(s\) verified/)

    const recent = await runCli(['audit', 'query', '--type', 'workflow.completed', '--since', '35m'], dir)
    assert.equal(recent.code, 0, recent.stderr)
    assert.match(recent.stdout, /SEQ\s+TIME\s+TYPE/)
    assert.deepEqual(
      [...recent.stdout.matchAll(/^(\d+)\s/gm)].map((m) => Number(m[1])),
      [70, 80, 90, 100],
    )
    const json = JSON.parse(
      (
        await runCli(
          ['audit', 'query', '--run', 'run-3', '--type', 'step.executed', '--limit', '2', '--json'],
          dir,
        )
      ).stdout,
    ) as AuditEntry[]
    assert.deepEqual(
      json.map((e) => [e.seq, e.runId, e.type]),
      [
        [38, 'run-3', 'step.executed'],
        [39, 'run-3', 'step.executed'],
      ],
    )
    const bad = await runCli(['audit', 'query', '--since', 'yesterday'], dir)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--since yesterday: use a duration/)

    const exported = await runCli(['audit', 'export', '--out', join(dir, 'elsewhere.json')], dir)
    assert.equal(exported.code, 0, exported.stderr)
    const file = JSON.parse(readFileSync(join(dir, 'elsewhere.json'), 'utf8')) as { checkpoints: unknown[] }
    assert.equal(file.checkpoints.length, 3)

    sql(dir, `UPDATE audit_log SET data = '{"result":"SUCCESS"}' WHERE seq = 42`)
    const tampered = await runCli(['audit', 'verify'], dir)
    assert.equal(tampered.code, 1, tampered.stdout + tampered.stderr)
    assert.match(tampered.stdout, /audit log tampered: entry 42 modified/)
    const tamperedJson = JSON.parse((await runCli(['audit', 'verify', '--json'], dir)).stdout) as {
      ok: boolean
      firstBad: { seq: number; reason: string }
    }
    assert.deepEqual(
      [tamperedJson.ok, tamperedJson.firstBad.seq, tamperedJson.firstBad.reason],
      [false, 42, 'modified'],
    )
  },
)

test(
  'homeostat audit verify --checkpoints detects a truncation the store alone cannot show',
  { timeout: 60_000 },
  async () => {
    const dir = await project()
    const exported = await runCli(['audit', 'export', '--out', join(dir, 'elsewhere.json')], dir)
    assert.equal(exported.code, 0, exported.stderr)
    sql(dir, 'DELETE FROM audit_log WHERE seq > 90; DELETE FROM audit_checkpoints')

    const alone = await runCli(['audit', 'verify'], dir)
    assert.equal(alone.code, 0, alone.stdout + alone.stderr)
    assert.match(alone.stdout, /90 entries after the last checkpoint are not signed yet/)

    const withExport = await runCli(['audit', 'verify', '--checkpoints', join(dir, 'elsewhere.json')], dir)
    assert.equal(withExport.code, 1, withExport.stdout + withExport.stderr)
    assert.match(withExport.stdout, /entry 91 truncated/)
    assert.match(withExport.stdout, /entries 91\.\.100 were removed/)

    const signed = await runCli(['audit', 'checkpoint'], dir)
    assert.equal(signed.code, 0, signed.stderr)
    assert.match(signed.stdout, /checkpoint of 90 entries signed by key [0-9a-f]{16}/)
  },
)

test(
  'an audit log kept in the store file by an older build moves to audit.db intact',
  { timeout: 60_000 },
  async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'homeostat.yaml'), 'store: data/store.db\n')
    mkdirSync(join(dir, 'data'))
    // the layout of older builds: the log's tables in the store file itself, same key file
    const old = await openLog(join(dir, 'data'), { checkpointEvery: 25 })
    const now = Date.now()
    for (let i = 0; i < 60; i++) old.log.append(traceEntry(i, now - (60 - i) * 1000))
    await old.close()

    const verified = await runCli(['audit', 'verify', '--json'], dir)
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
    const result = JSON.parse(verified.stdout) as {
      ok: boolean
      entries: number
      checkpointsVerified: number
    }
    assert.equal(result.ok, true)
    assert.equal(result.entries, 60)
    assert.ok(result.checkpointsVerified >= 1)
    const store = new DatabaseSync(join(dir, 'data', 'store.db'), { readOnly: true })
    assert.equal(Number((store.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n), 0)
    store.close()
  },
)
