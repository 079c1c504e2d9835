import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const PLUGIN = resolve(import.meta.dirname, '..', 'fixtures', 'plugins', 'record-plugin.ts')

test(
  'kill -9 mid-run: the restarted CLI finishes the run and every completed step ran exactly once',
  { timeout: 60_000 },
  async () => {
    const dir = tempDir()
    const effects = join(dir, 'effects.log')
    mkdirSync(join(dir, 'workflows'))
    writeFileSync(
      join(dir, 'homeostat.yaml'),
      `store: data/store.db\nworkflows: [workflows]\nplugins: [${JSON.stringify(PLUGIN)}]\n`,
    )
    const record = (name: string, needs?: string): string =>
      `  - id: ${name}\n${needs ? `    needs: [${needs}]\n` : ''}    uses: test.record\n    with: { file: ${JSON.stringify(effects)}, name: ${name} }\n`
    writeFileSync(
      join(dir, 'workflows', 'slow.yaml'),
      `id: slow\nsteps:\n${record('s1')}${record('s2', 's1')}${record('s3', 's2')}` +
        `  - id: nap\n    needs: [s3]\n    uses: wait.sleep\n    with: { duration: 2s }\n` +
        `${record('s4', 'nap')}${record('s5', 's4')}`,
    )

    const first = startCli(['run', 'slow', '--wait'], dir)
    await until(() => first.stdout().includes('✓ s3'), 20_000, 'step s3 to complete in the first process')
    await new Promise((r) => setTimeout(r, 200)) // the nap step is now sleeping
    first.child.kill('SIGKILL')
    const killed = await first.result
    assert.equal(killed.signal, 'SIGKILL')
    assert.ok(!killed.stdout.includes('✓ nap'), 'killed before the nap step finished')
    assert.deepEqual(
      readFileSync(effects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
      ['s1', 's2', 's3'],
    )

    const store = new SqliteStore({ path: join(dir, 'data', 'store.db') })
    const [before] = await store.listRuns({ workflowId: 'slow' })
    assert.equal(before?.status, 'running', 'the run was left running by the dead process')
    await store.close()

    const second = await runCli(['worker', '--once'], dir)
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, /1 run\(s\) succeeded/)

    const lines = readFileSync(effects, 'utf8').trim().split('\n')
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ['s1', 's2', 's3', 's4', 's5'],
      'each step executed exactly once',
    )
    const runId = before!.id
    assert.deepEqual(
      lines.map((l) => l.split(' ')[1]),
      ['s1', 's2', 's3', 's4', 's5'].map((s) => `${runId}:${s}:0`),
    )

    const shown = await runCli(['runs', 'show', runId, '--json'], dir)
    const run = JSON.parse(shown.stdout) as {
      status: string
      steps: Array<{ stepId: string; status: string }>
    }
    assert.equal(run.status, 'succeeded')
    const nap = run.steps.filter((s) => s.stepId === 'nap').map((s) => s.status)
    assert.deepEqual(nap, ['interrupted', 'succeeded'], 'the interrupted step was recorded and run again')
    assert.equal(run.steps.filter((s) => s.status === 'succeeded').length, 6)
    assert.ok(existsSync(join(dir, 'data', 'store.db')))
  },
)
