import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openApp, type App } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { startServer, type RunningServer } from '../../src/cli/serve-command.ts'
import { meshProject, openProject } from '../helpers/mesh-project.ts'

/** An approval workflow: it asks, then waits for `approval.decided` about its own request. */
const APPROVAL = `id: approval_gate
inputs:
  request: { type: string, default: r-1 }
steps:
  - id: wait
    uses: wait.event
    with:
      type: approval.decided
      match: { request: "{{ inputs.request }}" }
      condition: data.decision in ["approve", "reject"]
      timeout: 20s
  - id: outcome
    needs: [wait]
    uses: data.set
    with:
      decision: "{{ steps.wait.output.data.decision }}"
      by: "{{ steps.wait.output.data.by }}"
`

async function publish(url: string, type: string, data: unknown, id: string): Promise<number> {
  const res = await fetch(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, data, id, source: '/test' }),
  })
  await res.text()
  return res.status
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const status = (app: App, runId: string, wanted: string[]) => () =>
  app.store.getRun(runId).then((r) => (r && wanted.includes(r.status) ? r : undefined))

test(
  'wait.event: a run waits for the event that matches its request, others leave it waiting',
  {
    timeout: 30_000,
  },
  async () => {
    const project = meshProject()
    writeFileSync(join(project.workflows, 'approval.yaml'), APPROVAL)
    const app = await openProject(project.config, project.dir)
    const server: RunningServer = await startServer(app, { host: '127.0.0.1', port: 0 })
    try {
      const runId = await app.runs.submit(
        await app.resolveWorkflow('approval_gate'),
        { request: 'r-42' },
        {
          type: 'manual',
        },
      )
      await until('the run to wait', status(app, runId, ['waiting']))
      // another request's decision, and a decision with an unknown value: the run keeps waiting
      assert.equal(
        await publish(server.url, 'approval.decided', { request: 'r-7', decision: 'approve' }, 'a'),
        202,
      )
      assert.equal(
        await publish(server.url, 'approval.decided', { request: 'r-42', decision: 'maybe' }, 'b'),
        202,
      )
      assert.equal(await publish(server.url, 'approval.requested', { request: 'r-42' }, 'c'), 202)
      await new Promise((r) => setTimeout(r, 200))
      assert.equal((await app.store.getRun(runId))!.status, 'waiting')

      assert.equal(
        await publish(
          server.url,
          'approval.decided',
          { request: 'r-42', decision: 'approve', by: 'ada' },
          'd',
        ),
        202,
      )
      const done = await until('the run to finish', status(app, runId, ['succeeded', 'failed']))
      assert.equal(done.status, 'succeeded')
      assert.deepEqual(done.output, { decision: 'approve', by: 'ada' })
      // the decision of the event that woke it is kept with the event
      const recent = (await (
        await fetch(`${server.url}/events/recent?event_type=approval.decided`)
      ).json()) as {
        events: Array<{ id: string }>
      }
      assert.ok(recent.events.some((e) => e.id === 'd'))
      // a second matching event finds no wait left
      assert.equal(
        await publish(server.url, 'approval.decided', { request: 'r-42', decision: 'reject' }, 'e'),
        202,
      )
    } finally {
      await server.stop()
    }
  },
)

test('wait.event: the wait survives a restart of the server', { timeout: 30_000 }, async () => {
  const project = meshProject()
  writeFileSync(join(project.workflows, 'approval.yaml'), APPROVAL)
  // the first server is closed by hand (openProject closes its app after the test)
  let app = await openApp(resolveConfig({ config: project.config }, {}, project.dir))
  let server = await startServer(app, { host: '127.0.0.1', port: 0 })
  const runId = await app.runs.submit(await app.resolveWorkflow('approval_gate'), {}, { type: 'manual' })
  await until('the run to wait', status(app, runId, ['waiting']))
  await server.stop()
  await app.close()

  app = await openProject(project.config, project.dir)
  server = await startServer(app, { host: '127.0.0.1', port: 0 })
  try {
    assert.equal(
      await publish(server.url, 'approval.decided', { request: 'r-1', decision: 'reject', by: 'bob' }, 'x'),
      202,
    )
    const done = await until('the run to finish', status(app, runId, ['succeeded', 'failed']))
    assert.deepEqual(done.output, { decision: 'reject', by: 'bob' })
  } finally {
    await server.stop()
  }
})

test(
  'wait.event: an invalid pattern fails the step with the reason; a timeout fails or succeeds as asked',
  {
    timeout: 30_000,
  },
  async () => {
    const project = meshProject()
    writeFileSync(
      join(project.workflows, 'bad.yaml'),
      `id: bad_wait
steps:
  - { id: wait, uses: wait.event, with: { type: "not a type!" } }
`,
    )
    writeFileSync(
      join(project.workflows, 'short.yaml'),
      `id: short_wait
steps:
  - { id: wait, uses: wait.event, with: { type: never.happens, timeout: 100ms, on_timeout: succeed } }
`,
    )
    const app = await openProject(project.config, project.dir)
    const server = await startServer(app, { host: '127.0.0.1', port: 0 })
    try {
      const bad = await app.runs.submit(await app.resolveWorkflow('bad_wait'), {}, { type: 'manual' })
      const failed = await until('the bad run to end', status(app, bad, ['failed']))
      assert.match(JSON.stringify(failed.error), /not a type!.*is not an event pattern/)
      const short = await app.runs.submit(await app.resolveWorkflow('short_wait'), {}, { type: 'manual' })
      const ok = await until('the short run to end', status(app, short, ['succeeded', 'failed']))
      assert.equal(ok.status, 'succeeded')
      assert.deepEqual(ok.output, { timedOut: true })
    } finally {
      await server.stop()
    }
  },
)
