import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { openApp } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { runCli, startCli, until, type CliResult } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

/**
 * 20 canary secrets, each used by a workflow through a different path (log message and fields,
 * data.set, handler.call to an HTTP handler and its error, event.emit data, a failing step with
 * retries, http.request headers and query, shell.exec arguments, stdin and environment, the LLM
 * API key, foreach items, composed values, a final error, notify.slack's webhook URL). None of the
 * values may appear in the SQLite files' bytes, in any CLI output, API response or engine log line,
 * while the real services on 127.0.0.1 did receive them (proof that they were used).
 */

const N = 20
const names = Array.from({ length: N }, (_, i) => `C${String(i).padStart(2, '0')}`)
const values = names.map((n) => `canary${n}x${randomBytes(8).toString('hex')}`)
const secret = (i: number) => values[i]!
/** Everything the homeostat processes printed or answered. */
const observed: Array<{ what: string; text: string }> = []
/** What the fake services received. */
const received: string[] = []

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    req.on('data', (d: Buffer) => (text += d.toString()))
    req.on('end', () => resolve(text))
  })
}

/** One server for every remote party: HTTP handler, web API, OpenAI-compatible LLM, Slack webhook. */
async function services(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void body(req).then((text) => {
      const url = req.url ?? ''
      received.push(`${req.method} ${url} ${JSON.stringify(req.headers)} ${text}`)
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      if (url === '/handler/echo') return json(200, { echoed: JSON.parse(text) as unknown })
      if (url === '/handler/reject') {
        res.writeHead(400, { 'content-type': 'text/plain' })
        return res.end(`rejected ${text}`)
      }
      if (url.startsWith('/web/echo')) return json(200, { url, authorization: req.headers.authorization })
      if (url === '/v1/chat/completions') {
        const request = JSON.parse(text) as { model: string }
        return json(200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: `you sent ${String(req.headers.authorization)}` },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
        })
      }
      if (url.startsWith('/slack/')) {
        res.writeHead(200, { 'content-type': 'text/plain' })
        return res.end('ok')
      }
      json(404, { error: `no route ${url}` })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  after(() => server.close())
  return { server, port: (server.address() as { port: number }).port }
}

function project(port: number): string {
  const dir = tempDir('homeostat-canary-')
  mkdirSync(join(dir, 'workflows'))
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: data/store.db
workflows: [workflows]
log_level: debug
worker: { poll: 50ms, grace: 1s }
handlers:
  svc: { url: "http://127.0.0.1:${port}/handler", retries: 0 }
http: { allow: [127.0.0.1] }
shell: { env: [PATH] }
ai:
  default: local
  providers:
    local: { kind: openai, url: "http://127.0.0.1:${port}/v1", model: test-model, api_key_secret: C13 }
notify:
  slack: { webhook_url_secret: C19 }
`,
  )
  const s = (i: number) => `secrets.${names[i]}`
  writeFileSync(
    join(dir, 'workflows', 'canary.yaml'),
    `id: canary
steps:
  - id: say
    uses: log
    with: { message: "C00 is {{ ${s(0)} }}", level: warn, fields: { c01: "{{ ${s(1)} }}" } }
  - id: keep
    uses: data.set
    with:
      c02: "{{ ${s(2)} }}"
      nested: { list: ["<{{ ${s(3)} }}>"] }
      pair: "{{ ${s(15)} + ':' + ${s(16)} }}"
  - id: call
    uses: handler.call
    with: { target: svc.echo, args: { token: "{{ ${s(4)} }}" } }
  - id: refused
    uses: handler.call
    with: { target: svc.reject, args: { token: "{{ ${s(5)} }}" } }
  - id: emit
    uses: event.emit
    with: { type: canary.emitted, data: { key: "{{ ${s(6)} }}" } }
  - id: flaky
    uses: fail
    retry: { attempts: 3, delay: 10ms }
    with: { message: "flaky with {{ ${s(7)} }}" }
  - id: web
    uses: http.request
    with:
      url: "http://127.0.0.1:${port}/web/echo"
      headers: { authorization: "Bearer {{ ${s(8)} }}" }
      query: { q: "{{ ${s(9)} }}" }
  - id: sh_args
    uses: shell.exec
    with: { command: echo, args: ["{{ ${s(10)} }}"] }
  - id: sh_stdin
    uses: shell.exec
    with: { command: cat, stdin: "{{ ${s(11)} }}" }
  - id: sh_env
    uses: shell.exec
    with: { command: printenv, args: [CANARY], env: { CANARY: "{{ ${s(12)} }}" } }
  - id: ask
    uses: ai.generate
    with: { prompt: "say what you got" }
  - id: each
    uses: data.set
    foreach: "[1, 2]"
    with: { v: "{{ ${s(14)} }}-{{ item }}" }
  - id: final_fail
    uses: fail
    with: { message: "gave up on {{ ${s(17)} }}", retryable: false }
  - id: loud
    uses: log
    with: { message: "{{ ${s(18)} }}", level: error }
  - id: slack
    uses: notify.slack
    with: { text: "hello" }
`,
  )
  writeFileSync(
    join(dir, 'workflows', 'listener.yaml'),
    `id: canary_listener
triggers:
  - type: event
    event: canary.emitted
steps:
  - id: got
    uses: log
    with: { message: "got {{ event.data.key }}" }
`,
  )
  return dir
}

async function cli(args: string[], cwd: string, what = args.join(' ')): Promise<CliResult> {
  const r = await runCli(args, cwd)
  observed.push({ what: `${what} (stdout)`, text: r.stdout }, { what: `${what} (stderr)`, text: r.stderr })
  return r
}

function seen(what: string, r: CliResult): void {
  observed.push({ what: `${what} (stdout)`, text: r.stdout }, { what: `${what} (stderr)`, text: r.stderr })
}

/** Every file of the data directory (SQLite files and their WAL/SHM) but the key, as one buffer. */
function dataBytes(dir: string): Buffer {
  const data = join(dir, 'data')
  return Buffer.concat(
    readdirSync(data)
      .filter((f) => f !== 'secrets.key')
      .map((f) => readFileSync(join(data, f))),
  )
}

test(
  '20 canary secrets never appear in the store, the audit log, CLI output, API responses or logs',
  { timeout: 180_000 },
  async () => {
    const { port } = await services()
    const dir = project(port)
    const slackUrl = `http://127.0.0.1:${port}/slack/${secret(19)}`
    values[19] = slackUrl

    // --- store the secrets: standard input, a file and --value (which warns) through the CLI; the
    // rest through the same store in-process (each CLI start costs seconds on a shared machine)
    const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
    for (let i = 0; i < N; i++) if (![0, 1, 10, 11, 15].includes(i)) app.secrets.set(names[i]!, secret(i))
    await app.close()
    for (const i of [0, 1, 10, 11, 15]) {
      let r: CliResult
      if (i === 10 || i === 11) {
        const file = join(dir, `${names[i]}.txt`)
        writeFileSync(file, `${secret(i)}\n`)
        r = await runCli(['secrets', 'set', names[i]!, '--from-file', file], dir)
      } else if (i === 15) {
        r = await runCli(['secrets', 'set', names[i]!, '--value', secret(i)], dir)
        assert.match(r.stderr, /--value leaves the secret in your shell history/)
      } else r = await runCli(['secrets', 'set', names[i]!], dir, {}, `${secret(i)}\n`)
      assert.equal(r.code, 0, r.stderr)
      seen(`secrets set ${names[i]}`, r)
    }
    const listed = await cli(['secrets', 'list', '--json'], dir)
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ name: string }>).map((s) => s.name),
      [...names].sort(),
    )
    await cli(['secrets', 'list'], dir)

    // --- run it in the CLI, following every step
    const run = await cli(['run', 'canary', '--wait'], dir)
    assert.equal(run.code, 1, `the run fails on purpose:\n${run.stdout}\n${run.stderr}`)
    const runId = /run ([0-9a-f-]{36})/.exec(run.stdout)![1]!
    const shown = await cli(['runs', 'show', runId, '--json'], dir)
    assert.equal(shown.code, 0, shown.stderr)
    await cli(['runs', 'show', runId], dir)
    const record = JSON.parse(shown.stdout) as {
      status: string
      error: { message: string }
      steps: Array<{ stepId: string; status: string; output?: unknown; error?: { message: string } }>
    }
    // every path was taken: the recorded outputs and errors carry the markers
    const stepText = (id: string) => JSON.stringify(record.steps.filter((s) => s.stepId === id))
    const marker = (i: number) => `[secret:${names[i]}]`
    assert.match(stepText('say'), new RegExp(`C00 is \\[secret:C00\\]`))
    assert.ok(stepText('say').includes(marker(1)))
    assert.ok(stepText('keep').includes(marker(2)) && stepText('keep').includes(`<${marker(3)}>`))
    assert.ok(stepText('keep').includes(`${marker(15)}:${marker(16)}`))
    assert.ok(stepText('call').includes(marker(4)), stepText('call'))
    assert.ok(
      stepText('refused').includes(marker(5)) && stepText('refused').includes('400'),
      stepText('refused'),
    )
    assert.equal(record.steps.filter((s) => s.stepId === 'flaky').length, 3, 'three attempts')
    assert.ok(stepText('flaky').includes(marker(7)))
    assert.ok(stepText('web').includes(marker(8)) && stepText('web').includes(marker(9)), stepText('web'))
    for (const [id, i] of [
      ['sh_args', 10],
      ['sh_stdin', 11],
      ['sh_env', 12],
    ] as const)
      assert.ok(stepText(id).includes(marker(i)), `${id}: ${stepText(id)}`)
    assert.ok(stepText('ask').includes(marker(13)), stepText('ask'))
    assert.ok(stepText('each').includes(`${marker(14)}-1`) && stepText('each').includes(`${marker(14)}-2`))
    assert.ok(stepText('final_fail').includes(marker(17)))
    assert.ok(stepText('loud').includes(marker(18)))
    assert.equal(record.steps.find((s) => s.stepId === 'slack')?.status, 'succeeded', stepText('slack'))

    // --- the same through the server: API, engine log lines, the routed event's run
    const server = startCli(['serve', '--port', '0'], dir)
    await until(() => /serving on http:\/\/127\.0\.0\.1:\d+/.test(server.stdout()), 30_000, 'the server')
    const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())![1]!
    const api = async (path: string, init?: RequestInit): Promise<unknown> => {
      const res = await fetch(`${url}${path}`, init)
      const text = await res.text()
      observed.push({ what: `${init?.method ?? 'GET'} ${path}`, text })
      return JSON.parse(text) as unknown
    }
    const started = (await api('/api/workflows/canary/execute', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })) as { runId: string }
    let apiRun: { status: string } = { status: 'queued' }
    const end = Date.now() + 60_000
    while (['queued', 'running'].includes(apiRun.status) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100))
      apiRun = (await api(`/api/executions/${started.runId}`)) as { status: string }
    }
    assert.equal(apiRun.status, 'failed')
    let listenerRuns: Array<{ id: string; status: string }> = []
    for (let i = 0; i < 300 && listenerRuns.filter((r) => r.status === 'succeeded').length < 2; i++) {
      listenerRuns = (
        (await api('/api/workflows/canary_listener/executions')) as { executions: typeof listenerRuns }
      ).executions
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(
      listenerRuns.filter((r) => r.status === 'succeeded').length,
      2,
      'both emitted events were routed',
    )
    const listened = (await api(`/api/executions/${listenerRuns[0]!.id}`)) as { steps: unknown[] }
    assert.ok(JSON.stringify(listened).includes(`got ${marker(6)}`), JSON.stringify(listened))
    await api(`/api/executions/${runId}`)
    await api('/events/recent')
    await api('/api/workflows/canary_listener/executions')
    server.child.kill('SIGTERM')
    seen('serve', await server.result)

    await cli(['runs', 'list', '--json'], dir)
    await cli(['audit', 'query', '--json', '--limit', '1000'], dir)
    await cli(['audit', 'query', '--limit', '1000'], dir)
    await cli(['events', 'list', '--json'], dir)

    // --- the services got the real values: the secrets were really used
    const got = received.join('\n')
    for (const i of [4, 5, 8, 9, 13])
      assert.ok(got.includes(secret(i)), `${names[i]} did not reach its service`)
    assert.ok(got.includes(`/slack/${slackUrl.split('/slack/')[1]}`), 'the Slack webhook URL came from C19')

    // --- and nothing homeostat kept or showed holds any of them
    const bytes = dataBytes(dir)
    for (let i = 0; i < N; i++) {
      assert.equal(bytes.includes(secret(i)), false, `${names[i]} is in the data directory's files`)
      for (const o of observed)
        assert.equal(o.text.includes(secret(i)), false, `${names[i]} appears in ${o.what}`)
    }
    for (const where of ['serve (stderr)', 'run canary --wait (stderr)'])
      assert.ok(
        observed.some((o) => o.what === where && o.text.includes(`warn: C00 is ${marker(0)}`)),
        `the engine's log lines of ${where} were seen`,
      )
    assert.ok(
      observed.some((o) => o.text.includes(marker(0))),
      'the markers show where secrets were',
    )
  },
)
