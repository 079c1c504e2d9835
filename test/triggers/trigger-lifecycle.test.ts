import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { App } from '../../src/cli/app.ts'
import type { RunningServer } from '../../src/cli/serve-command.ts'
import { pause, runsOf, serveProject, triggerProject, waitFor } from './trigger-project.ts'

/** The resources triggers hold: timers and file system watchers. */
function resources(): { timers: number; watchers: number } {
  const info = process.getActiveResourcesInfo()
  return {
    timers: info.filter((r) => r === 'Timeout').length,
    watchers: info.filter((r) => r === 'FSEventWrap' || r === 'StatWatcher').length,
  }
}

/** Waits until the trigger resources are back to `baseline` (closed handles go away a turn later). */
async function backTo(baseline: { timers: number; watchers: number }, what: string): Promise<void> {
  let now = resources()
  try {
    await waitFor(
      async () => {
        now = resources()
        return now.timers <= baseline.timers && now.watchers <= baseline.watchers
      },
      what,
      5000,
    )
  } catch {
    assert.deepEqual(now, baseline, `${what}: leftover timers or watchers`)
  }
}

const WORKFLOWS = {
  // a far tick: its timer stays armed for months, so a timer left behind would show
  'yearly.yaml': `id: yearly
enabled: false
triggers:
  - type: schedule
    cron: '0 0 1 1 *'
steps: [{ id: a, uses: data.set }]
`,
  'sched.yaml': `id: sched
enabled: false
triggers:
  - type: schedule
    cron: '*/1 * * * * *'
steps: [{ id: a, uses: data.set }]
`,
  'files.yaml': `id: files
enabled: false
triggers:
  - type: file_change
    paths: ['src/**/*.ts']
    debounce: 50ms
steps:
  - id: a
    uses: data.set
    with: { path: "{{ trigger.filePath }}" }
`,
  'ev.yaml': `id: ev
enabled: false
triggers: [{ type: event, event: demo.ping }]
steps: [{ id: a, uses: data.set }]
`,
  'act.yaml': `id: act
enabled: false
triggers: [{ type: activity, event: code_review }]
steps: [{ id: a, uses: data.set }]
`,
  'esc.yaml': `id: esc
enabled: false
triggers: [{ type: escalation }]
steps: [{ id: a, uses: data.set }]
`,
}
const IDS = ['sched', 'files', 'ev', 'act', 'esc']

async function post(server: RunningServer, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const json = (await res.json()) as Record<string, unknown>
  assert.ok(res.status < 300, `${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

async function counts(app: App): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const id of IDS) out[id] = (await runsOf(app, id)).length
  return out
}

/** Fires every kind of stimulus once. */
async function stimulate(server: RunningServer, dir: string, name: string): Promise<void> {
  writeFileSync(join(dir, 'src', `${name}.ts`), name)
  for (const type of ['demo.ping', 'activity.code_review', 'escalation.raised'])
    await post(server, '/events', { type, source: '/lifecycle', data: { name } })
}

test(
  'enable, disable, re-enable, reload and rollback set triggers up and tear them down, leaving no timer or watcher',
  { timeout: 60_000 },
  async () => {
    const before = resources()
    const project = triggerProject(WORKFLOWS)
    mkdirSync(join(project.dir, 'src', 'lib'))
    const { app, server } = await serveProject(project)
    const idle = resources() // the server alone: engine timers, no trigger yet
    assert.deepEqual(server.triggers.active(), [])

    // enable: every trigger type fires
    for (const id of [...IDS, 'yearly']) await post(server, `/api/workflows/${id}/enable`)
    await server.triggers.settled()
    assert.deepEqual(
      server.triggers
        .active()
        .map((a) => a.workflowId)
        .sort(),
      ['files', 'sched', 'yearly'],
    )
    assert.ok(resources().watchers > idle.watchers, 'a watcher is open')
    assert.ok(resources().timers > idle.timers, 'schedule timers are armed')
    await stimulate(server, project.dir, 'one')
    const first = await waitFor(async () => {
      const c = await counts(app)
      return IDS.every((id) => c[id]! >= 1) ? c : undefined
    }, 'a run of every workflow')
    assert.equal(first.files, 1)

    // disable: nothing fires, and nothing is left running
    for (const id of [...IDS, 'yearly']) await post(server, `/api/workflows/${id}/disable`)
    await server.triggers.settled()
    assert.deepEqual(server.triggers.active(), [])
    await waitFor(
      async () => (await app.store.listRuns({ status: ['queued', 'running'], limit: 10 })).length === 0,
      'runs to finish',
    )
    await backTo(idle, 'after disable')
    const disabled = await counts(app)
    await stimulate(server, project.dir, 'two')
    await pause(1300)
    assert.deepEqual(await counts(app), disabled, 'disabled workflows start nothing')

    // re-enable: it fires again
    for (const id of [...IDS, 'yearly']) await post(server, `/api/workflows/${id}/enable`)
    await server.triggers.settled()
    await stimulate(server, project.dir, 'three')
    await waitFor(async () => {
      const c = await counts(app)
      return IDS.every((id) => c[id]! > disabled[id]!) ? c : undefined
    }, 'runs after re-enabling')

    // reload with other paths: the old watcher goes, the new one reports
    writeFileSync(
      join(project.workflows, 'files.yaml'),
      WORKFLOWS['files.yaml'].replace('src/**/*.ts', 'src/lib/**/*.ts').replace('enabled: false\n', ''),
    )
    const report = await post(server, '/api/reload')
    assert.deepEqual(
      (report.changed as Array<{ id: string }>).map((c) => c.id),
      ['files'],
    )
    await server.triggers.settled()
    const reloaded = (await runsOf(app, 'files')).length
    writeFileSync(join(project.dir, 'src', 'outside-lib.ts'), 'x')
    writeFileSync(join(project.dir, 'src', 'lib', 'inside.ts'), 'x')
    const afterReload = await waitFor(async () => {
      const runs = await runsOf(app, 'files')
      return runs.length > reloaded ? runs.slice(reloaded) : undefined
    }, 'a run from the reloaded watcher')
    await pause(300)
    assert.deepEqual(
      (await runsOf(app, 'files')).slice(reloaded).map((r) => r.trigger.filePath),
      ['src/lib/inside.ts'],
    )
    assert.equal(afterReload.length, 1)

    // rollback to version 1: src/** again
    await post(server, '/api/workflows/files/rollback', { version: 1 })
    await server.triggers.settled()
    const rolled = (await runsOf(app, 'files')).length
    writeFileSync(join(project.dir, 'src', 'after-rollback.ts'), 'x')
    const back = await waitFor(async () => {
      const runs = await runsOf(app, 'files')
      return runs.length > rolled ? runs.at(-1) : undefined
    }, 'a run after the rollback')
    assert.equal(back!.trigger.filePath, 'src/after-rollback.ts')

    // server stop: every trigger resource is gone
    await server.stop()
    assert.deepEqual(server.triggers.active(), [])
    await backTo(before, 'after server stop')
  },
)
