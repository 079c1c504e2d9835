import assert from 'node:assert/strict'
import { cpSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const BROKEN = resolve(ROOT, 'test', 'fixtures', 'broken')

/** Every row of every table, to prove a command changed nothing stored. */
function dump(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true })
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all() as Array<{ name: string }>
  const out = tables
    .map((t) => `${t.name}:${JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all())}`)
    .join('\n')
  db.close()
  return out
}

function project(): string {
  const dir = tempDir()
  mkdirSync(join(dir, 'workflows'))
  cpSync(resolve(ROOT, 'examples', 'workflows', 'hello.yaml'), join(dir, 'workflows', 'hello.yaml'))
  writeFileSync(join(dir, 'homeostat.yaml'), 'store: data/store.db\nworkflows: [workflows]\n')
  return dir
}

test(
  'the README commands work as typed: validate, run --wait, runs list, runs show, list, show',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    const validate = await runCli(['validate'], dir)
    assert.equal(validate.code, 0, validate.stdout + validate.stderr)
    assert.match(validate.stdout, /1 file\(s\), 1 valid workflow\(s\)/)

    const run = await runCli(['run', 'hello', '--input', 'name=Ada', '--wait'], dir)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /✓ compose .*\{"message":"Hello, Ada"\}/)
    assert.match(run.stdout, /✓ shout .*"loud":"Hello, Ada!","length":10/)
    assert.match(run.stdout, /succeeded in/)
    const runId = /run ([0-9a-f-]{36})/.exec(run.stdout)![1]!

    const list = await runCli(['runs', 'list', '--workflow', 'hello'], dir)
    assert.match(list.stdout, new RegExp(`${runId}\\s+hello\\s+1\\s+succeeded\\s+manual`))
    const json = JSON.parse((await runCli(['runs', 'list', '--json'], dir)).stdout) as Array<{
      id: string
      status: string
    }>
    assert.deepEqual(
      json.map((r) => [r.id, r.status]),
      [[runId, 'succeeded']],
    )

    const show = await runCli(['runs', 'show', runId], dir)
    assert.match(show.stdout, /compose\s+0\s+1\s+succeeded/)
    assert.match(show.stdout, /input\s+\{"message":"Hello, Ada"\}/)
    assert.match(show.stdout, new RegExp(`key ${runId}:shout:0`))

    const wfList = await runCli(['list'], dir)
    assert.match(wfList.stdout, /hello\s+Hello\s+1\s+yes\s+manual\s+1\s+100%/)
    const wfShow = await runCli(['show', 'hello'], dir)
    assert.match(wfShow.stdout, /# stored version: 1/)
    assert.match(wfShow.stdout, /^id: hello$/m)
    assert.match(wfShow.stdout, /^version: 1$/m)
  },
)

test(
  'exit codes: a failed run exits 1, bad inputs and unknown workflows exit 2 with the error code',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    writeFileSync(
      join(dir, 'workflows', 'boom.yaml'),
      'id: boom\nsteps:\n  - id: x\n    uses: fail\n    with: { message: kaboom, retryable: false }\n',
    )
    const failed = await runCli(['run', 'boom', '--wait'], dir)
    assert.equal(failed.code, 1)
    assert.match(failed.stdout, /✗ x .*kaboom/)
    const badInput = await runCli(['run', 'hello', '--input', 'nope=1'], dir)
    assert.equal(badInput.code, 2)
    assert.match(badInput.stderr, /\/inputs\/nope is not allowed here.*HS_ERR_INPUT_INVALID/s)
    const unknown = await runCli(['run', 'nosuch'], dir)
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /no workflow `nosuch`.*known: boom, hello/s)
    const usage = await runCli(['runs', 'list', '--status', 'weird'], dir)
    assert.equal(usage.code, 2)
  },
)

test(
  'the broken-workflow corpus: every file reported at file:line:column, exit 2, and nothing stored changes',
  { timeout: 120_000 },
  async () => {
    const dir = project()
    const ok = await runCli(['run', 'hello', '--wait'], dir)
    assert.equal(ok.code, 0, ok.stderr)
    const store = join(dir, 'data', 'store.db')
    const before = dump(store)

    const files = readdirSync(BROKEN).filter((f) => f.endsWith('.yaml'))
    assert.ok(files.length >= 30, `at least 30 broken workflows (${files.length})`)
    const validate = await runCli(['validate', BROKEN], dir)
    assert.equal(validate.code, 2)
    for (const file of files) {
      assert.match(
        validate.stdout,
        new RegExp(`broken/${file.replace('.', '\\.')}:\\d+:\\d+: `),
        `${file} not reported with a position`,
      )
    }
    for (const file of files.slice(0, 12)) {
      const run = await runCli(['run', join(BROKEN, file)], dir)
      assert.equal(run.code, 2, `${file}: ${run.stdout}${run.stderr}`)
      assert.match(run.stderr, /HS_ERR_/, file)
    }
    assert.equal(dump(store), before, 'the store is unchanged')
  },
)

test(
  'SIGINT during run --wait releases the run; a worker finishes it later',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    writeFileSync(
      join(dir, 'workflows', 'nap.yaml'),
      'id: nap\nsteps:\n  - id: sleep\n    uses: wait.sleep\n    with: { duration: 3s }\n  - id: after\n    needs: [sleep]\n    uses: data.set\n    with: { done: true }\n',
    )
    const first = startCli(['run', 'nap', '--wait'], dir, { HOMEOSTAT_WORKER_GRACE: '100ms' })
    await until(() => first.stdout().includes('run '), 20_000, 'the run to start')
    await new Promise((r) => setTimeout(r, 300))
    first.child.kill('SIGINT')
    const interrupted = await first.result
    assert.equal(interrupted.code, 130)
    assert.match(interrupted.stdout, /interrupted: running steps may finish/)
    assert.match(interrupted.stdout, /queued/)
    const worker = await runCli(['worker', '--once'], dir)
    assert.equal(worker.code, 0, worker.stderr)
    assert.match(worker.stdout, /1 run\(s\) succeeded/)
  },
)
