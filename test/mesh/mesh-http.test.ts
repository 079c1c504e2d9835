import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CloudEvent, HTTP } from 'cloudevents'
import { startServer, type RunningServer } from '../../src/cli/serve-command.ts'
import type { App } from '../../src/cli/app.ts'
import { meshProject, openProject } from '../helpers/mesh-project.ts'

async function serve(
  extraConfig = '',
): Promise<{ app: App; server: RunningServer; project: ReturnType<typeof meshProject> }> {
  const project = meshProject(extraConfig)
  const app = await openProject(project.config, project.dir)
  const server = await startServer(app, { host: '127.0.0.1', port: 0 })
  return { app, server, project }
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; json: Record<string, unknown>; type: string }> {
  const res = await fetch(`${url}/events`, { method: 'POST', body, headers })
  const text = await res.text()
  return {
    status: res.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    type: res.headers.get('content-type') ?? '',
  }
}

async function settle(app: App, runId: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const run = await app.store.getRun(runId)
    if (run && ['succeeded', 'failed'].includes(run.status)) return run.status
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`run ${runId} did not finish`)
}

const critical = { component_id: 'ingress_kernel', score: 45, severity: 'CRITICAL' }

test(
  'the official CloudEvents SDK: binary and structured mode events are accepted, routed and executed',
  { timeout: 30_000 },
  async () => {
    const { app, server } = await serve()
    try {
      for (const mode of ['binary', 'structured'] as const) {
        const ce = new CloudEvent({
          type: 'quality.dropped',
          source: '/sdk/test',
          data: { ...critical, component_id: `sdk_${mode}` },
        })
        const message = mode === 'binary' ? HTTP.binary(ce) : HTTP.structured(ce)
        const res = await post(server.url, message.body as string, message.headers as Record<string, string>)
        assert.equal(res.status, 202, JSON.stringify(res.json))
        assert.equal(res.json.status, 'accepted')
        assert.equal(res.json.id, ce.id)
        const [runId] = res.json.runs as string[]
        assert.ok(runId, 'one run started')
        assert.equal(await settle(app, runId!), 'succeeded')
        const run = await app.store.getRun(runId!)
        assert.equal((run!.output as { status: string }).status, 'healing_initiated')
        assert.deepEqual((run!.trigger as unknown as { event: { data: unknown } }).event.data, {
          ...critical,
          component_id: `sdk_${mode}`,
        })
      }
    } finally {
      await server.stop()
    }
  },
)

test(
  'batch mode and the plain {type, data} form; a filter that does not match starts nothing',
  { timeout: 30_000 },
  async () => {
    const { server } = await serve()
    try {
      const batch = JSON.stringify([
        { specversion: '1.0', id: 'b1', source: '/batch', type: 'quality.dropped', data: critical },
        {
          specversion: '1.0',
          id: 'b2',
          source: '/batch',
          type: 'quality.dropped',
          data: { ...critical, severity: 'WARNING' },
        },
      ])
      const res = await post(server.url, batch, { 'content-type': 'application/cloudevents-batch+json' })
      assert.equal(res.status, 202)
      const results = res.json.results as Array<{ status: string; runs: string[] }>
      assert.deepEqual(
        results.map((r) => [r.status, r.runs.length]),
        [
          ['accepted', 1],
          ['accepted', 0],
        ],
      )
      const plain = await post(server.url, JSON.stringify({ type: 'quality.dropped', data: critical }), {
        'content-type': 'application/json',
      })
      assert.equal(plain.status, 202)
      assert.equal((plain.json.runs as string[]).length, 1)
      assert.match(String(plain.json.source), /^homeostat:/)
    } finally {
      await server.stop()
    }
  },
)

test('the same (source, id) twice is acknowledged twice and routed once', { timeout: 30_000 }, async () => {
  const { app, server, project } = await serve()
  try {
    const event = JSON.stringify({
      specversion: '1.0',
      id: 'dup-1',
      source: '/dedupe',
      type: 'quality.dropped',
      data: critical,
    })
    const first = await post(server.url, event, { 'content-type': 'application/cloudevents+json' })
    const second = await post(server.url, event, { 'content-type': 'application/cloudevents+json' })
    assert.deepEqual([first.status, second.status], [202, 202])
    assert.equal(first.json.status, 'accepted')
    assert.equal(second.json.status, 'duplicate')
    assert.equal(second.json.seq, first.json.seq)
    await settle(app, (first.json.runs as string[])[0]!)
    const runs = await app.store.listRuns({ workflowId: 'heal' })
    assert.equal(runs.length, 1)
    const calls = readFileSync(project.handlerCalls, 'utf8').trim().split('\n')
    assert.equal(calls.length, 1, 'the handler was called once')
  } finally {
    await server.stop()
  }
})

test('bad input: each gets its precise error, and nothing stored is lost', { timeout: 30_000 }, async () => {
  const { app, server } = await serve('ingest: { max_body: 4kb, max_depth: 8 }\n')
  try {
    const ok = await post(server.url, JSON.stringify({ type: 'quality.dropped', data: critical }), {
      'content-type': 'application/json',
    })
    assert.equal(ok.status, 202)
    const before = await app.mesh.recentEvents({ limit: 100 })

    const malformed = await post(server.url, '{"type": "quality.dropped", ', {
      'content-type': 'application/json',
    })
    assert.equal(malformed.status, 400)
    assert.match(malformed.type, /application\/problem\+json/)
    assert.equal(malformed.json.code, 'HS_ERR_EVENT_INVALID')
    assert.match(String(malformed.json.detail), /malformed JSON/)

    const wrongType = await post(server.url, 'type=quality.dropped', {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.equal(wrongType.status, 415)
    assert.equal(wrongType.json.code, 'HS_ERR_EVENT_CONTENT_TYPE')

    const big = await post(
      server.url,
      JSON.stringify({ type: 'quality.dropped', data: { ...critical, pad: 'x'.repeat(5000) } }),
      { 'content-type': 'application/json' },
    )
    assert.equal(big.status, 413)
    assert.equal(big.json.code, 'HS_ERR_EVENT_TOO_LARGE')

    let deep: unknown = 1
    for (let i = 0; i < 12; i++) deep = { d: deep }
    const nested = await post(server.url, JSON.stringify({ type: 'quality.dropped', data: deep }), {
      'content-type': 'application/json',
    })
    assert.equal(nested.status, 400)
    assert.equal(nested.json.code, 'HS_ERR_EVENT_LIMIT')
    assert.match(String(nested.json.detail), /depth 8/)

    const envelope = await post(
      server.url,
      JSON.stringify({ specversion: '0.3', type: 'Bad Type!', data: {} }),
      { 'content-type': 'application/cloudevents+json' },
    )
    assert.equal(envelope.status, 400)
    const pointers = (envelope.json.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()
    assert.deepEqual(pointers, ['/specversion', '/type'])

    const invalid = await post(
      server.url,
      JSON.stringify({ type: 'quality.dropped', data: { component_id: 'x', score: 140, severity: 'LOW' } }),
      { 'content-type': 'application/json' },
    )
    assert.equal(invalid.status, 422)
    assert.equal(invalid.json.code, 'HS_ERR_EVENT_SCHEMA')
    const violations = (invalid.json.errors as Array<{ pointer: string; message: string }>)
      .map((e) => e.pointer)
      .sort()
    assert.deepEqual(violations, ['/data/score', '/data/severity'])
    const rejected = await app.mesh.listRejected({})
    assert.equal(rejected.length, 1)
    assert.equal(rejected[0]!.id, invalid.json.rejectedId)

    assert.deepEqual(
      await app.mesh.recentEvents({ limit: 100 }),
      before,
      'the event log is unchanged by bad input',
    )
  } finally {
    await server.stop()
  }
})

test(
  'the API: workflows, execute, executions with their routing decision, cancel, healthz, problems',
  { timeout: 30_000 },
  async () => {
    const { app, server } = await serve()
    try {
      const list = (await (await fetch(`${server.url}/api/workflows`)).json()) as {
        workflows: Array<{ id: string; version: number; enabled: boolean }>
      }
      assert.deepEqual(
        list.workflows.map((w) => [w.id, w.version, w.enabled]),
        [['heal', 1, true]],
      )
      const one = (await (await fetch(`${server.url}/api/workflows/heal`)).json()) as {
        id: string
        steps: unknown[]
      }
      assert.equal(one.steps.length, 2)
      const missing = await fetch(`${server.url}/api/workflows/nope`)
      assert.equal(missing.status, 404)
      assert.equal(((await missing.json()) as { code: string }).code, 'HS_ERR_WORKFLOW_NOT_FOUND')

      const ev = await post(server.url, JSON.stringify({ type: 'quality.dropped', data: critical }), {
        'content-type': 'application/json',
      })
      const runId = (ev.json.runs as string[])[0]!
      await settle(app, runId)
      const detail = (await (await fetch(`${server.url}/api/executions/${runId}`)).json()) as {
        status: string
        steps: unknown[]
        routing: { matched: Array<{ runId: string }> }
      }
      assert.equal(detail.status, 'succeeded')
      assert.equal(detail.steps.length, 2)
      assert.equal(detail.routing.matched[0]!.runId, runId)
      const history = (await (await fetch(`${server.url}/api/workflows/heal/executions`)).json()) as {
        executions: Array<{ id: string }>
      }
      assert.deepEqual(
        history.executions.map((e) => e.id),
        [runId],
      )

      const exec = await fetch(`${server.url}/api/workflows/heal/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(exec.status, 202)
      const cancelDone = await fetch(`${server.url}/api/executions/${runId}/cancel`, { method: 'POST' })
      assert.equal(cancelDone.status, 409, 'a finished run cannot be cancelled')
      const recent = (await (
        await fetch(`${server.url}/events/recent?event_type=quality.dropped`)
      ).json()) as { events: Array<{ type: string }> }
      assert.equal(recent.events.length, 1)
      const health = await fetch(`${server.url}/healthz`)
      assert.equal(health.status, 200)
    } finally {
      await server.stop()
    }
  },
)

test(
  'hot reload: an edit routes to the new version within a second; an invalid edit keeps the last good one',
  { timeout: 30_000 },
  async () => {
    const { app, server, project } = await serve()
    try {
      const file = join(project.workflows, 'heal.yaml')
      const original = readFileSync(file, 'utf8')
      writeFileSync(file, original.replace('filter: { severity: CRITICAL }', 'filter: { severity: WARNING }'))
      const registry = await app.registry()
      for (let i = 0; i < 100 && registry.get('heal')!.version !== 2; i++)
        await new Promise((r) => setTimeout(r, 20))
      assert.equal(registry.get('heal')!.version, 2, 'picked up within 2 s')
      const warn = await post(
        server.url,
        JSON.stringify({ type: 'quality.dropped', data: { ...critical, severity: 'WARNING' } }),
        { 'content-type': 'application/json' },
      )
      assert.equal((warn.json.runs as string[]).length, 1, 'the new filter routes')

      writeFileSync(file, original.replace('uses: handler.call', 'uses: handler.cal'))
      await new Promise((r) => setTimeout(r, 600))
      assert.equal(registry.get('heal')!.version, 2, 'the invalid edit is refused')
      const still = await post(
        server.url,
        JSON.stringify({ type: 'quality.dropped', data: { ...critical, severity: 'WARNING' } }),
        { 'content-type': 'application/json' },
      )
      assert.equal((still.json.runs as string[]).length, 1, 'the last good version keeps running')
      assert.ok(existsSync(project.handlerCalls))
    } finally {
      await server.stop()
    }
  },
)

test(
  'unknown event types: accepted by default, refused with 422 when configured; stats count both',
  { timeout: 30_000 },
  async () => {
    const open = await serve()
    try {
      const unknown = await post(open.server.url, JSON.stringify({ type: 'nobody.knows', data: { x: 1 } }), {
        'content-type': 'application/json',
      })
      assert.equal(unknown.status, 202)
      assert.deepEqual(unknown.json.runs, [])
    } finally {
      await open.server.stop()
    }
    const strict = await serve('ingest: { unknown_types: reject }\n')
    try {
      const refused = await post(
        strict.server.url,
        JSON.stringify({ type: 'nobody.knows', data: { x: 1 } }),
        { 'content-type': 'application/json' },
      )
      assert.equal(refused.status, 422)
      assert.match(JSON.stringify(refused.json.errors), /no schema is registered for type nobody\.knows/)
      await post(strict.server.url, JSON.stringify({ type: 'quality.dropped', data: critical }), {
        'content-type': 'application/json',
      })
      const stats = (await (await fetch(`${strict.server.url}/api/stats`)).json()) as {
        totalWorkflows: number
        router: { events_received: number; events_rejected: number; workflows_triggered: number }
      }
      assert.equal(stats.totalWorkflows, 1)
      assert.equal(stats.router.events_received, 1)
      assert.equal(stats.router.events_rejected, 1)
      assert.equal(stats.router.workflows_triggered, 1)
    } finally {
      await strict.server.stop()
    }
  },
)
