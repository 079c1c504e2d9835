import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

/**
 * Dry runs: a workflow that reads a file, writes one, runs a command, emits an event (a listener is
 * subscribed) and calls a handler. In a dry run nothing changes: no file is written, no command
 * runs, no event is stored or routed, no handler is called; the read-only step runs for real; every
 * side-effecting step reports its plan; the run is marked as a test. A real run of the same workflow
 * does all of it, so each assertion can fail.
 */

const RECORDER = `import { appendFileSync } from 'node:fs'
export function hit(args) {
  appendFileSync(new URL('./calls.jsonl', import.meta.url), JSON.stringify(args) + '\\n')
  return { ok: true }
}
`

function project(): string {
  const dir = tempDir('homeostat-dry-run-')
  mkdirSync(join(dir, 'workflows'))
  mkdirSync(join(dir, 'handlers'))
  writeFileSync(join(dir, 'handlers', 'recorder.mjs'), RECORDER)
  writeFileSync(join(dir, 'notes.txt'), 'release notes\n')
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: data/store.db
workflows: [workflows]
worker: { poll: 50ms, grace: 1s }
handlers:
  recorder: { module: ./handlers/recorder.mjs }
`,
  )
  writeFileSync(
    join(dir, 'workflows', 'publish.yaml'),
    `id: publish
steps:
  - id: read
    uses: file.read
    with: { path: notes.txt }
  - id: write
    uses: file.write
    needs: [read]
    with: { path: out/README.md, mkdir: true, content: "# {{ steps.read.output.content }}" }
  - id: touch
    uses: shell.exec
    with: { command: touch, args: [made-by-shell.txt] }
  - id: announce
    uses: event.emit
    with: { type: docs.published, data: { file: README.md } }
  - id: notify
    uses: handler.call
    with: { target: recorder.hit, args: { file: README.md } }
  - id: summary
    uses: log
    needs: [write]
    with:
      message: "{{ has(steps.write.output.plan) ? 'planned: ' + steps.write.output.plan.summary : 'wrote ' + steps.write.output.path }}"
  - id: path
    uses: log
    needs: [write]
    with: { message: "wrote {{ steps.write.output.path }}" }
`,
  )
  writeFileSync(
    join(dir, 'workflows', 'listener.yaml'),
    `id: on_publish
triggers:
  - type: event
    event: docs.published
steps:
  - id: seen
    uses: log
    with: { message: "published {{ event.data.file }}" }
`,
  )
  return dir
}

interface PlanStep {
  step: string
  action?: string
  status: string
  planned: boolean
  summary?: string
  details?: Record<string, unknown>
  output?: unknown
}

function nothingChanged(dir: string): void {
  assert.equal(existsSync(join(dir, 'out', 'README.md')), false, 'a file was written')
  assert.equal(existsSync(join(dir, 'out')), false, 'a directory was made')
  assert.equal(existsSync(join(dir, 'made-by-shell.txt')), false, 'the command ran')
  assert.equal(existsSync(join(dir, 'handlers', 'calls.jsonl')), false, 'the handler was called')
}

test(
  'run --dry-run plans every side effect, runs read-only steps, changes nothing, and is a test run',
  { timeout: 120_000 },
  async () => {
    const dir = project()
    const r = await runCli(['run', 'publish', '--dry-run'], dir)
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    nothingChanged(dir)
    const lines = r.stdout.split('\n')
    const order = [
      /read \(file\.read\): ran \(read-only\) → \{"path":"notes\.txt"/,
      /touch \(shell\.exec\): would run `touch made-by-shell\.txt`/,
      /announce \(event\.emit\): would publish a docs\.published event \(id hs-[0-9a-f]{32}\)/,
      /notify \(handler\.call\): would call recorder\.hit with 1 argument\(s\)/,
      /write \(file\.write\): would write \d+ B to out\/README\.md/,
    ]
    let at = -1
    for (const re of order) {
      const i = lines.findIndex((l, k) => k > at && re.test(l))
      assert.ok(i > at, `no line ${re} after line ${at} in:\n${r.stdout}`)
      at = i
    }
    assert.match(
      r.stdout,
      /summary \(log\): ran \(read-only\) → \{"message":"planned: write \d+ B to out\/README\.md, creating its directory"\}/,
    )
    assert.match(
      r.stdout,
      /path \(log\): would run log \(its parameters need the output of write, which this dry run only planned\)/,
    )

    const json = await runCli(['run', 'publish', '--dry-run', '--json'], dir)
    assert.equal(json.code, 0, json.stderr)
    nothingChanged(dir)
    const out = JSON.parse(json.stdout) as { id: string; isTest: boolean; status: string; plan: PlanStep[] }
    assert.equal(out.isTest, true)
    assert.equal(out.status, 'succeeded')
    const byStep = new Map(out.plan.map((p) => [p.step, p]))
    assert.equal(byStep.get('read')!.planned, false)
    assert.match(JSON.stringify(byStep.get('read')!.output), /release notes/)
    for (const step of ['write', 'touch', 'announce', 'notify'])
      assert.equal(byStep.get(step)!.planned, true, step)
    assert.equal(byStep.get('write')!.details!.path, 'out/README.md')
    assert.deepEqual(byStep.get('touch')!.details!.args, ['made-by-shell.txt'])

    // nothing was routed: only the two dry runs exist, and no event was stored
    const runs = JSON.parse((await runCli(['runs', 'list', '--json'], dir)).stdout) as Array<{
      workflowId: string
      isTest: boolean
    }>
    assert.deepEqual(
      runs.map((x) => [x.workflowId, x.isTest]),
      [
        ['publish', true],
        ['publish', true],
      ],
    )
    const events = await runCli(['events', 'list', '--json'], dir)
    assert.equal(events.stdout.includes('docs.published'), false, events.stdout)

    const list = await runCli(['runs', 'list'], dir)
    assert.match(list.stdout, /publish\s+1\s+succeeded\s+manual \(test\)/)
    const show = await runCli(['runs', 'show', out.id], dir)
    assert.match(
      show.stdout,
      /status\s+succeeded\s+test run \(dry run: side effects planned, not performed\)/,
    )
    const stored = JSON.parse((await runCli(['runs', 'show', out.id, '--json'], dir)).stdout) as {
      steps: Array<{ stepId: string; output?: { dryRun?: boolean; plan?: { summary: string } } }>
    }
    const write = stored.steps.find((s) => s.stepId === 'write')!
    assert.equal(write.output?.dryRun, true)
    assert.match(write.output!.plan!.summary, /^write \d+ B to out\/README\.md/)

    // the control: a real run does everything the dry run only planned
    const real = await runCli(['run', 'publish', '--wait'], dir)
    assert.equal(real.code, 0, `${real.stdout}\n${real.stderr}`)
    assert.equal(readFileSync(join(dir, 'out', 'README.md'), 'utf8'), '# release notes\n')
    assert.ok(existsSync(join(dir, 'made-by-shell.txt')))
    assert.match(readFileSync(join(dir, 'handlers', 'calls.jsonl'), 'utf8'), /README\.md/)
    const after = await runCli(['events', 'list', '--json'], dir)
    assert.match(after.stdout, /docs\.published/)
  },
)

test(
  'POST /api/workflows/:id/test answers with the plan; nothing changes; ?wait=0 answers 202 at once',
  { timeout: 120_000 },
  async () => {
    const dir = project()
    const server = startCli(['serve', '--port', '0'], dir)
    try {
      await until(() => /serving on http:\/\/127\.0\.0\.1:\d+/.test(server.stdout()), 30_000, 'the server')
      const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())![1]!
      const res = await fetch(`${url}/api/workflows/publish/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(res.status, 200)
      const body = (await res.json()) as { runId: string; isTest: boolean; status: string; steps: PlanStep[] }
      assert.equal(body.isTest, true)
      assert.equal(body.status, 'succeeded')
      const planned = body.steps.filter((s) => s.planned).map((s) => s.step)
      assert.deepEqual(planned.sort(), ['announce', 'notify', 'path', 'touch', 'write'])
      assert.equal(body.steps.find((s) => s.step === 'write')!.action, 'file.write')
      nothingChanged(dir)

      const execution = (await (await fetch(`${url}/api/executions/${body.runId}`)).json()) as {
        isTest: boolean
      }
      assert.equal(execution.isTest, true)
      const listener = (await (await fetch(`${url}/api/workflows/on_publish/executions`)).json()) as {
        executions: unknown[]
      }
      assert.deepEqual(listener.executions, [], 'no event was routed')

      const quick = await fetch(`${url}/api/workflows/publish/test?wait=0`, { method: 'POST' })
      assert.equal(quick.status, 202)
      const queued = (await quick.json()) as { runId: string; isTest: boolean }
      assert.equal(queued.isTest, true)
      const bad = await fetch(`${url}/api/workflows/publish/test?wait=forever`, { method: 'POST' })
      assert.equal(bad.status, 400)
      assert.equal(((await bad.json()) as { code: string }).code, 'HS_ERR_BAD_REQUEST')
      const missing = await fetch(`${url}/api/workflows/nope/test`, { method: 'POST' })
      assert.equal(missing.status, 404)
      nothingChanged(dir)
    } finally {
      server.child.kill('SIGTERM')
      await server.result
    }
  },
)
