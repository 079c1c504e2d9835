import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples')
const SCENARIO =
  '{"component_id":"ingress_kernel","status":"CRITICAL","score":45.0,"severity":"CRITICAL","recommended_actions":["Review recent code changes"]}'

/** A copy of examples/ (the source document's system) with its own data directory. */
function examples(): { dir: string; args: string[] } {
  const dir = tempDir('homeostat-examples-')
  cpSync(EXAMPLES, dir, { recursive: true, filter: (src) => !src.includes(`${EXAMPLES}/data`) })
  return { dir, args: ['--config', join(dir, 'homeostat.yaml')] }
}

test("stats prints the source document's figures", { timeout: 60_000 }, async () => {
  const { dir, args } = examples()
  const stats = await runCli([...args, 'stats'], dir)
  assert.equal(stats.code, 0, stats.stderr)
  for (const line of [
    'Total Workflows: 9',
    'Enabled: 9',
    'Disabled: 0',
    'Unique Event Types: 7',
    '  avn_core: 3',
    '  learning_kernel: 2',
    '  governance_kernel: 2',
    '  orchestration_kernel: 2',
    '  monitoring_kernel: 1',
    '  kpi_trust_monitor: 1',
    '  alert_manager: 1',
  ]) {
    assert.ok(stats.stdout.split('\n').includes(line), `missing line "${line}" in:\n${stats.stdout}`)
  }
})

test(
  'without a server: publish stores and routes, explain explains, disable/enable persist, history and rollback',
  { timeout: 60_000 },
  async () => {
    const { dir, args } = examples()
    const published = await runCli(
      [...args, 'publish', 'test_quality.healing_required', '--data', SCENARIO],
      dir,
    )
    assert.equal(published.code, 0, published.stderr)
    assert.match(published.stdout, /accepted test_quality\.healing_required .*1 run\(s\) started/)
    // no server runs on this store: the CLI says where the event went
    assert.match(published.stdout, /written to \S+\.db \(no server runs on this store\)/)

    writeFileSync(
      join(dir, 'event.json'),
      SCENARIO.replace('"CRITICAL","score"', '"DEGRADED","score"').replace(
        '"severity":"CRITICAL"',
        '"severity":"WARNING"',
      ),
    )
    const explained = await runCli(
      [...args, 'explain', 'test_quality.healing_required', '--data', '@event.json'],
      dir,
    )
    assert.match(explained.stdout, /✓ match\s+test_quality_degraded_learning/)
    assert.match(explained.stdout, /filter_false\s+test_quality_critical_healing v1: .*severity/)
    assert.match(explained.stdout, /type_mismatch\s+kpi_critical_healing/)

    const bad = await runCli(
      [...args, 'publish', 'test_quality.healing_required', '--data', '{"component_id":1}'],
      dir,
    )
    assert.equal(bad.code, 2)
    assert.match(bad.stdout, /rejected .*kept as rejected event (\d+)/)
    const rejectedId = /kept as rejected event (\d+)/.exec(bad.stdout)![1]!
    const list = await runCli([...args, 'events', 'rejected'], dir)
    assert.match(list.stdout, new RegExp(`#${rejectedId} test_quality.healing_required`))
    const replay = await runCli([...args, 'events', 'replay', rejectedId, '--data', SCENARIO], dir)
    assert.equal(replay.code, 0, replay.stdout + replay.stderr)
    assert.match(replay.stdout, /accepted/)
    assert.match(replay.stdout, /no server runs on this store/)

    assert.equal((await runCli([...args, 'disable', 'kpi_warning_adaptation'], dir)).code, 0)
    assert.match((await runCli([...args, 'stats'], dir)).stdout, /Disabled: 1/)
    assert.match((await runCli([...args, 'reload'], dir)).stdout, /reloaded: 0 added, 0 changed, 0 removed/)
    assert.match((await runCli([...args, 'stats'], dir)).stdout, /Disabled: 1/, 'disable survives reload')
    assert.equal((await runCli([...args, 'enable', 'kpi_warning_adaptation'], dir)).code, 0)
    assert.match((await runCli([...args, 'stats'], dir)).stdout, /Disabled: 0/)

    const history = await runCli([...args, 'history', 'kpi_critical_healing'], dir)
    assert.match(history.stdout, /^1\s+[0-9a-f]{12}\s+cli:/m)
    assert.match(
      (await runCli([...args, 'rollback', 'kpi_critical_healing', '1'], dir)).stdout,
      /version 1 is already in force/,
    )

    // edit the file (v2), roll back to v1 (stored as v3): reload, worker and run must keep v3
    const file = join(dir, 'mesh', 'workflows', 'trigger_mesh_workflows.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('Emergency healing escalation', 'Edited purpose'))
    assert.match((await runCli([...args, 'reload'], dir)).stdout, /kpi_critical_healing: v1 → v2/)
    assert.match(
      (await runCli([...args, 'rollback', 'kpi_critical_healing', '1'], dir)).stdout,
      /version 1 restored as version 3/,
    )
    assert.match((await runCli([...args, 'reload'], dir)).stdout, /0 changed/)
    assert.equal((await runCli([...args, 'worker', '--once'], dir)).code, 0)
    const run = await runCli([...args, 'run', 'kpi_critical_healing', '--json'], dir)
    assert.equal((JSON.parse(run.stdout) as { workflowVersion: number }).workflowVersion, 3)
    const versions = JSON.parse(
      (await runCli([...args, 'history', 'kpi_critical_healing', '--json'], dir)).stdout,
    ) as unknown[]
    assert.equal(versions.length, 3, 'neither the worker nor run stored the file again')
  },
)

test(
  'with a server: the CLI acts through its API, and publish executes at once',
  { timeout: 60_000 },
  async () => {
    const { dir, args } = examples()
    const server = startCli([...args, 'serve', '--port', '0'], dir)
    await until(() => /serving on/.test(server.stdout()), 20_000, 'the server to listen')
    try {
      const disabled = await runCli([...args, 'disable', 'kpi_warning_adaptation'], dir)
      assert.match(disabled.stdout, /disabled on the running server/)
      const enabled = await runCli([...args, 'enable', 'kpi_warning_adaptation'], dir)
      assert.match(enabled.stdout, /enabled on the running server/)
      const published = await runCli(
        [...args, 'publish', 'test_quality.healing_required', '--data', SCENARIO],
        dir,
      )
      const runId = /run\(s\) started: (\S+)/.exec(published.stdout)![1]!
      assert.doesNotMatch(published.stdout, /no server runs on this store/)
      let shown = ''
      for (let i = 0; i < 100 && !/status\s+succeeded/.test(shown); i++) {
        shown = (await runCli([...args, 'runs', 'show', runId], dir)).stdout
        if (!/status\s+succeeded/.test(shown)) await new Promise((r) => setTimeout(r, 100))
      }
      assert.match(shown, /status\s+succeeded/)
      assert.match(shown, /avn_core\.escalate_healing/)
      const demo = await runCli([...args, 'demo'], dir)
      assert.equal(demo.code, 0, demo.stderr)
      assert.match(demo.stdout, /Step 7: the audit log records the complete trace/)
      assert.match(demo.stdout, /result: SUCCESS/)
      assert.match(demo.stdout, /latency: [\d.]+m?s from POST to run finished/)
    } finally {
      server.child.kill('SIGTERM')
      const stopped = await server.result
      assert.match(stopped.stdout, /SIGTERM: stopping intake/)
    }
  },
)
