import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const SCENARIO =
  '{"component_id":"ingress_kernel","status":"CRITICAL","score":45.0,"severity":"CRITICAL","recommended_actions":["Review recent code changes"]}'

/** The repository as a user has it after a clone: its homeostat.yaml and examples/, no data yet. */
function checkout(): string {
  const dir = tempDir('homeostat-checkout-')
  cpSync(join(ROOT, 'homeostat.yaml'), join(dir, 'homeostat.yaml'))
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), {
    recursive: true,
    filter: (src) => !src.startsWith(join(ROOT, 'examples', 'data')),
  })
  return dir
}

/** The arguments `npm start` passes to the CLI, read from package.json so the test follows the script. */
function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  const words = pkg.scripts.start.split(/\s+/)
  assert.deepEqual(
    words.slice(0, 2),
    ['node', 'bin/homeostat.js'],
    `npm start runs the CLI: ${pkg.scripts.start}`,
  )
  return words.slice(2)
}

test(
  'npm start and the bare CLI (no --config) share one store and server: the first blocks of the README and the mesh issue',
  { timeout: 120_000 },
  async () => {
    const dir = checkout()
    const server = startCli([...startArgs(), '--port', '0'], dir)
    try {
      await until(() => /serving on/.test(server.stdout()), 20_000, 'the server to listen')
      assert.match(server.stdout(), /workflows {2}17 \(17 enabled\)/)
      const url = /serving on (http:\/\/\S+)/.exec(server.stdout())![1]!

      const published = await runCli(['publish', 'test_quality.healing_required', '--data', SCENARIO], dir)
      assert.equal(published.code, 0, published.stderr)
      assert.match(published.stdout, /accepted test_quality\.healing_required .*1 run\(s\) started/)
      assert.doesNotMatch(published.stdout, /no server runs on this store/)

      writeFileSync(join(dir, 'event.json'), SCENARIO)
      const explained = await runCli(
        ['explain', 'test_quality.healing_required', '--data', '@event.json'],
        dir,
      )
      assert.match(explained.stdout, /✓ match\s+test_quality_critical_healing/)
      // the feature examples that no event starts are summed up on one line
      assert.match(
        explained.stdout,
        /no_event_trigger 8 workflows .*: approval, .*hello, long_form, parallel_join/,
      )

      const toggled = await runCli(['disable', 'kpi_warning_adaptation'], dir)
      assert.match(toggled.stdout, /disabled on the running server/)
      assert.match(
        (await runCli(['enable', 'kpi_warning_adaptation'], dir)).stdout,
        /enabled on the running server/,
      )
      assert.match(
        (await runCli(['reload'], dir)).stdout,
        /reloaded on the running server: 0 added, 0 changed, 0 removed/,
      )
      assert.match((await runCli(['history', 'kpi_critical_healing'], dir)).stdout, /^1 +[0-9a-f]{12} /m)

      const hello = await runCli(['run', 'hello', '--input', 'name=Ada', '--wait'], dir)
      assert.equal(hello.code, 0, hello.stderr)
      assert.match(hello.stdout, /Hello, Ada!/)
      assert.match(
        (await runCli(['runs', 'list', '--workflow', 'hello'], dir)).stdout,
        /hello +1 +succeeded +manual/,
      )

      const demo = await runCli(['demo'], dir)
      assert.equal(demo.code, 0, demo.stderr)
      assert.match(demo.stdout, /action executed: avn_core\.escalate_healing/)
      // the configuration is the one found here: the hint needs no --config
      assert.match(demo.stdout, /`homeostat audit query --run \S+` shows the audit entries/)

      let completed = ''
      for (let i = 0; i < 100 && !/test_quality_critical_healing/.test(completed); i++) {
        completed = (await runCli(['audit', 'query', '--type', 'workflow.completed', '--since', '24h'], dir))
          .stdout
        if (!/test_quality_critical_healing/.test(completed)) await new Promise((r) => setTimeout(r, 100))
      }
      assert.match(completed, /workflow\.completed +test_quality_critical_healing/)
      assert.match(completed, /workflow\.completed +hello/)
      const verified = await runCli(['audit', 'verify'], dir)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /audit log intact/)

      const stats = await runCli(['stats'], dir)
      for (const line of ['Total Workflows: 17', 'Enabled: 17', '  avn_core: 3', '  alert_manager: 1'])
        assert.ok(stats.stdout.split('\n').includes(line), `missing "${line}" in:\n${stats.stdout}`)
      const triggered = Number(/workflows_triggered: (\d+)/.exec(stats.stdout)![1])
      // the router counts the runs events started: the published one and the demo's (a manual run is not routed)
      assert.equal(triggered, 2, stats.stdout)
      assert.match(stats.stdout, /^test_quality\.healing_required +2 +2$/m)

      // a second server on the same address says so and exits, instead of running without listening
      const second = await runCli(['serve', '--port', new URL(url).port], dir)
      assert.equal(second.code, 2)
      assert.match(second.stderr, /cannot listen on 127\.0\.0\.1:\d+: the address is in use/)
      assert.match(second.stderr, /HS_ERR_SERVER_LISTEN/)
      // and the first one still serves the same store
      assert.equal((await fetch(`${url}/healthz`)).status, 200)
    } finally {
      server.child.kill('SIGTERM')
    }
    const stopped = await server.result
    assert.equal(stopped.code, 0, stopped.stderr)
  },
)
