import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { openApp } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { startServer } from '../../src/cli/serve-command.ts'
import type { TriggerInfo } from '../../src/core/store-port.ts'
import { githubHeaders, hookProject, send, standardHeaders, whsec } from './webhook-harness.ts'

/**
 * The webhook trigger as `homeostat serve` runs it: real server on 127.0.0.1, real engine, the
 * system clock. What a sender sees, and what the run received.
 */
const K = whsec('serve-key')
const project = hookProject({
  'deploy.yaml': `id: deploy
triggers:
  - { type: webhook, id: release, path: deploy, secret: "${K.secret}", respond: on_completion, timeout: 20s }
steps:
  - { id: a, uses: data.set, with: { service: "{{ event.data.body.service }}" } }
  - { id: b, needs: [a], uses: data.set, with: { tag: "{{ steps.a.output.service + '-' + trigger.query.env }}" } }
  - { id: c, needs: [b], uses: data.set, with: { deployed: "{{ steps.b.output.tag }}", actor: "{{ event.data.headers['x-actor'] }}" } }
output: { deployed: "{{ steps.c.output.deployed }}", actor: "{{ steps.c.output.actor }}" }
`,
  'broken.yaml': `id: broken
triggers: [{ type: webhook, path: broken, secret: "${K.secret}", respond: on_completion }]
steps:
  - { id: a, uses: data.set, with: { x: "{{ event.data.body.missing.deep }}" } }
`,
  'slow.yaml': `id: slow
triggers: [{ type: webhook, path: slow, secret: "${K.secret}", respond: on_completion, timeout: 300ms }]
steps:
  - { id: nap, uses: wait.sleep, with: { duration: 3s } }
`,
  'stored.yaml': `id: stored
triggers: [{ type: webhook, path: stored, secret: "{{ secrets.DEPLOY_HOOK }}" }]
steps:
  - { id: a, uses: data.set, with: { ok: true } }
`,
  'plain.yaml': `id: plain
triggers:
  - { type: manual }
  - { type: webhook, path: github/push, signature: github, secret: gh-secret-for-tests }
steps:
  - { id: a, uses: data.set, with: { ref: "{{ event.data.body.ref }}" } }
`,
})
const STORED = whsec('kept-in-the-secret-store')
const ROTATED = whsec('rotated-in-the-secret-store')
const app = await openApp(resolveConfig({ config: project.config }, {}, project.dir))
app.secrets.set('DEPLOY_HOOK', STORED.secret)
const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
after(async () => {
  await server.stop()
  await app.close()
})
let n = 0
const signed = (body: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...standardHeaders(`msg_http_${++n}`, Math.floor(Date.now() / 1000), body, [K.key]),
  ...extra,
})

async function settled(runId: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const run = await app.store.getRun(runId)
    if (run && ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(run.status)) return run.status
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`run ${runId} did not finish`)
}

test('respond: on_completion on a 3-step workflow answers with the run output', async () => {
  const body = JSON.stringify({ service: 'api' })
  const res = await send(server.url, 'deploy?env=prod', {
    body,
    headers: signed(body, { 'x-actor': 'ci-bot', authorization: 'Bearer do-not-store' }),
  })
  assert.equal(res.status, 200, JSON.stringify(res.json))
  assert.deepEqual(res.json, { deployed: 'api-prod', actor: 'ci-bot' })
  const runId = res.headers.get('homeostat-run-id')!
  const run = await app.store.getRun(runId)
  assert.equal(run?.status, 'succeeded')
  assert.equal(run?.workflowId, 'deploy')
  const event = (
    run!.trigger as TriggerInfo & { event: { id: string; type: string; data: Record<string, unknown> } }
  ).event
  assert.equal(event.type, 'webhook.received')
  assert.equal(event.id, res.headers.get('homeostat-event-id'))
  assert.equal(event.id, `msg_http_${n}`, 'the event id is the webhook-id')
  const data = event.data as { headers: Record<string, unknown> } & Record<string, unknown>
  assert.equal(data.workflow_id, 'deploy')
  assert.equal(data.trigger_id, 'release')
  assert.equal(data.webhook_id, `msg_http_${n}`)
  assert.equal(data.path, 'deploy')
  assert.equal(data.method, 'POST')
  assert.deepEqual(data.query, { env: 'prod' })
  assert.deepEqual(data.body, { service: 'api' })
  assert.equal(data.headers['x-actor'], 'ci-bot')
  assert.equal(data.headers['webhook-id'], `msg_http_${n}`)
  assert.equal(data.headers['webhook-signature'], undefined, 'the signature is not kept')
  assert.equal(data.headers.authorization, undefined, 'credentials are not kept')
  const context = run!.trigger as unknown as Record<string, unknown>
  assert.equal(context.triggerType, 'webhook')
  assert.equal(context.webhookId, `msg_http_${n}`, 'the event data reaches the run as trigger.*')
})

test('respond: on_completion on a failing run answers 500 with its error', async () => {
  const body = JSON.stringify({ other: 1 })
  const res = await send(server.url, 'broken', { body, headers: signed(body) })
  assert.equal(res.status, 500)
  assert.equal(res.json.code, 'HS_ERR_WEBHOOK_RUN_FAILED')
  assert.equal(res.json.runStatus, 'failed')
  assert.match(String(res.json.detail), /^run \S+ of broken failed: /)
  assert.equal(typeof (res.json.error as { message?: unknown }).message, 'string')
  assert.equal((await app.store.getRun(String(res.json.runId)))?.status, 'failed')
})

test('respond: on_completion past its timeout answers 202 with the run id; the run goes on', async () => {
  const res = await send(server.url, 'slow', { body: '{}', headers: signed('{}') })
  assert.equal(res.status, 202)
  const [runId] = res.json.runs as string[]
  assert.match(String(res.json.detail), new RegExp(`run ${runId} has not finished yet`))
  assert.equal(await settled(runId!), 'succeeded')
})

test('GitHub deliveries start one run each; a redelivery is acknowledged and starts none', async () => {
  const body = JSON.stringify({ ref: 'refs/heads/main' })
  const headers = githubHeaders('72d3162e-cc78-11e3-81ab-4c9367dc0958', body, 'gh-secret-for-tests')
  const first = await send(server.url, 'github/push', { body, headers })
  assert.equal(first.status, 202)
  const [runId] = first.json.runs as string[]
  assert.equal(await settled(runId!), 'succeeded')
  assert.deepEqual((await app.store.getRun(runId!))?.output, { ref: 'refs/heads/main' })
  const again = await send(server.url, 'github/push', { body, headers })
  assert.equal(again.status, 200)
  assert.equal(again.json.status, 'duplicate')
  assert.deepEqual(again.json.runs, [])
  assert.equal((await app.store.listRuns({ workflowId: 'plain', limit: 10 })).length, 1)
  const forged = await send(server.url, 'github/push', {
    body: JSON.stringify({ ref: 'refs/heads/evil' }),
    headers: { ...headers, 'x-github-delivery': 'another' },
  })
  assert.equal(forged.status, 401)
  assert.equal(forged.json.code, 'HS_ERR_WEBHOOK_SIGNATURE')
  assert.equal(forged.json.reason, 'no_match')
})

test('a workflow added and then disabled: its hook appears on reload and answers 409 when disabled', async () => {
  const registry = await app.registry()
  const before = await send(server.url, 'later', { body: '{}', headers: signed('{}') })
  assert.equal(before.status, 404)
  assert.equal(before.json.code, 'HS_ERR_WEBHOOK_NOT_FOUND')
  writeFileSync(
    join(project.dir, 'workflows', 'later.yaml'),
    `id: later\ntriggers: [{ type: webhook, path: later, secret: "${K.secret}" }]\nsteps:\n  - { id: a, uses: data.set, with: { ok: true } }\n`,
  )
  await registry.reload('test')
  const added = await send(server.url, 'later', { body: '{}', headers: signed('{}') })
  assert.equal(added.status, 202, JSON.stringify(added.json))
  await registry.setEnabled('later', false, 'test')
  const disabled = await send(server.url, 'later', { body: '{}', headers: signed('{}') })
  assert.equal(disabled.status, 409)
  assert.equal(disabled.json.code, 'HS_ERR_WORKFLOW_DISABLED')
  assert.equal((await app.store.listRuns({ workflowId: 'later', limit: 10 })).length, 1)
})

test('a secret from the secret store: `homeostat secrets set` rotates it without a reload', async () => {
  const stamp = (): number => Math.floor(Date.now() / 1000)
  const ok = await send(server.url, 'stored', {
    body: '{}',
    headers: standardHeaders('msg_store_1', stamp(), '{}', [STORED.key]),
  })
  assert.equal(ok.status, 202, JSON.stringify(ok.json))
  app.secrets.set('DEPLOY_HOOK', ROTATED.secret)
  const old = await send(server.url, 'stored', {
    body: '{}',
    headers: standardHeaders('msg_store_2', stamp(), '{}', [STORED.key]),
  })
  assert.equal(old.status, 401)
  const rotated = await send(server.url, 'stored', {
    body: '{}',
    headers: standardHeaders('msg_store_3', stamp(), '{}', [ROTATED.key]),
  })
  assert.equal(rotated.status, 202)
  assert.equal((await app.store.listRuns({ workflowId: 'stored', limit: 10 })).length, 2)
})

test('a webhook.received event posted to /events is refused: the signature check cannot be skipped', async () => {
  const runs = (await app.store.listRuns({ workflowId: 'deploy', limit: 100 })).length
  const res = await fetch(`${server.url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'webhook.received',
      data: {
        workflow_id: 'deploy',
        trigger_id: 'release',
        body: { service: 'forged' },
        query: {},
        headers: {},
      },
    }),
  })
  assert.equal(res.status, 400)
  assert.equal((await app.store.listRuns({ workflowId: 'deploy', limit: 100 })).length, runs)
})

test('a body over ingest.max_body is refused with 413 before anything is verified or stored', async () => {
  const body = 'x'.repeat(app.config.ingest.maxBody + 1)
  const res = await send(server.url, 'deploy', { body, headers: signed(body) })
  assert.equal(res.status, 413)
  assert.equal(res.json.code, 'HS_ERR_EVENT_TOO_LARGE')
})

test('stopping the server answers a waiting hook 202 with its run id', async () => {
  const waiting = send(server.url, 'slow', { body: '{}', headers: signed('{}') })
  // the hook is waiting once its run exists
  for (let i = 0; i < 200 && (await app.store.listRuns({ workflowId: 'slow', limit: 10 })).length < 2; i++)
    await new Promise((r) => setTimeout(r, 5))
  await server.stop()
  const res = await waiting
  assert.equal(res.status, 202)
  assert.equal((res.json.runs as string[]).length, 1)
})
