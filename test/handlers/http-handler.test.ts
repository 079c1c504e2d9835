import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, test } from 'node:test'
import { NonRetryableError, RetryAfterError } from '../../src/core/errors.ts'
import { HandlerTimeoutError } from '../../src/core/handler-port.ts'
import { MAX_RESPONSE_BYTES } from '../../src/mesh/handler-http.ts'
import { HandlerRegistry, type HttpHandlerConfig } from '../../src/mesh/handler-registry.ts'

/** A real HTTP server on 127.0.0.1; each test installs the route it needs for POST /rpc/<method>. */
interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}
type Route = (req: IncomingMessage, res: ServerResponse, n: number, body: string) => void
const routes = new Map<string, Route>()
const seen: Seen[] = []
const closed: string[] = []
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    const name = (req.url ?? '').replace(/^\/rpc\//, '')
    const count = seen.filter((s) => s.url === req.url).length
    res.on('close', () => {
      if (!res.writableFinished) closed.push(name)
    })
    const route = routes.get(name)
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no method ${name}`)
      return
    }
    route(req, res, count, body)
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`
after(() => {
  server.closeAllConnections()
  server.close()
})

const json = (
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value))
}

/** A registry with one HTTP handler `svc`; waits between attempts are recorded, not slept. */
async function svc(config: Partial<HttpHandlerConfig> = {}) {
  const sleeps: number[] = []
  const handlers = await HandlerRegistry.load({ svc: { url: base, ...config } }, '/', {
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    random: () => 0.5,
    now: () => Date.parse('2025-01-01T00:00:00Z'),
  })
  return { handlers, sleeps }
}

const call = (
  handlers: HandlerRegistry,
  target: string,
  args: unknown = {},
  signal = new AbortController().signal,
) => handlers.call(target, args, { signal, idempotencyKey: 'run-7:escalate:0' })

function requestsTo(name: string): Seen[] {
  return seen.filter((s) => s.url === `/rpc/${name}`)
}

test('POST <url>/<method> with the JSON args, Idempotency-Key and configured headers; the JSON answer is the result', async () => {
  routes.set('escalate_healing', (_req, res, _n, body) => {
    const args = JSON.parse(body) as { component_id: string }
    json(res, 200, { status: 'healing_initiated', component_id: args.component_id })
  })
  const { handlers } = await svc({ headers: { Authorization: 'Bearer t0ken', 'content-type': 'text/evil' } })
  const args = {
    component_id: 'ingress_kernel',
    current_score: 45,
    recommended_actions: ['Review recent code changes'],
  }
  assert.deepEqual(await call(handlers, 'svc.escalate_healing', args), {
    status: 'healing_initiated',
    component_id: 'ingress_kernel',
  })
  const [req] = requestsTo('escalate_healing')
  assert.equal(req!.method, 'POST')
  assert.deepEqual(JSON.parse(req!.body), args)
  assert.equal(req!.headers['content-type'], 'application/json')
  assert.equal(req!.headers['idempotency-key'], 'run-7:escalate:0')
  assert.equal(req!.headers.authorization, 'Bearer t0ken')
})

test('a text answer is returned as text; an empty JSON answer is null', async () => {
  routes.set('hello', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hi there'))
  routes.set('empty', (_req, res) => res.writeHead(204, { 'content-type': 'application/json' }).end())
  const { handlers } = await svc()
  assert.equal(await call(handlers, 'svc.hello'), 'hi there')
  assert.equal(await call(handlers, 'svc.empty'), null)
})

test('500 then success: retried with backoff, the same Idempotency-Key on both attempts', async () => {
  routes.set('flaky', (_req, res, n) =>
    n === 1 ? json(res, 500, { error: 'boom' }) : json(res, 200, { ok: true }),
  )
  const { handlers, sleeps } = await svc()
  assert.deepEqual(await call(handlers, 'svc.flaky'), { ok: true })
  const attempts = requestsTo('flaky')
  assert.equal(attempts.length, 2)
  assert.deepEqual(
    attempts.map((a) => a.headers['idempotency-key']),
    ['run-7:escalate:0', 'run-7:escalate:0'],
  )
  assert.deepEqual(sleeps, [200])
})

test('5xx every time: a retryable error naming the status, the body and the attempts', async () => {
  routes.set('down', (_req, res) => json(res, 503, { error: 'maintenance' }))
  const { handlers, sleeps } = await svc({ retries: 2 })
  await assert.rejects(call(handlers, 'svc.down'), (err: Error) => {
    assert.ok(!(err instanceof NonRetryableError) && !(err instanceof RetryAfterError))
    assert.match(
      err.message,
      /handler svc\.down: POST http:\/\/127\.0\.0\.1:\d+\/rpc\/down answered 503 Service Unavailable/,
    )
    assert.match(err.message, /maintenance/)
    assert.match(err.message, /\(attempt 3 of 3\)/)
    return true
  })
  assert.equal(requestsTo('down').length, 3)
  assert.deepEqual(sleeps, [200, 400])
})

test('429 with Retry-After: waits that many seconds, then succeeds', async () => {
  routes.set('limited', (_req, res, n) =>
    n === 1 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '2' }) : json(res, 200, { ok: 1 }),
  )
  const { handlers, sleeps } = await svc()
  assert.deepEqual(await call(handlers, 'svc.limited'), { ok: 1 })
  assert.deepEqual(sleeps, [2000])
})

test('429 when retries run out, or with a Retry-After too long to wait inline: RetryAfterError for the engine', async () => {
  routes.set('always_limited', (_req, res) => json(res, 429, {}, { 'retry-after': '3' }))
  const { handlers: noRetry } = await svc({ retries: 0 })
  await assert.rejects(call(noRetry, 'svc.always_limited'), (err: Error) => {
    assert.ok(err instanceof RetryAfterError)
    assert.equal(err.retryAfterMs, 3000)
    return true
  })
  routes.set('come_back_later', (_req, res) =>
    json(res, 503, {}, { 'retry-after': 'Wed, 01 Jan 2025 00:02:00 GMT' }),
  )
  const { handlers, sleeps } = await svc({ retries: 5 })
  await assert.rejects(call(handlers, 'svc.come_back_later'), (err: Error) => {
    assert.ok(err instanceof RetryAfterError)
    assert.equal(err.retryAfterMs, 120_000)
    return true
  })
  assert.equal(requestsTo('come_back_later').length, 1)
  assert.deepEqual(sleeps, [])
})

test('404 and other 4xx are not retried: NonRetryableError', async () => {
  routes.set('invalid', (_req, res) => json(res, 422, { error: 'component_id is required' }))
  const { handlers, sleeps } = await svc()
  await assert.rejects(call(handlers, 'svc.nope'), (err: Error) => {
    assert.ok(err instanceof NonRetryableError)
    assert.match(err.message, /answered 404 Not Found: no method nope/)
    return true
  })
  await assert.rejects(
    call(handlers, 'svc.invalid'),
    (err: Error) => err instanceof NonRetryableError && /422 .*component_id is required/.test(err.message),
  )
  assert.equal(requestsTo('nope').length, 1)
  assert.equal(requestsTo('invalid').length, 1)
  assert.deepEqual(sleeps, [])
})

test('redirects are not followed', async () => {
  routes.set('moved', (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end())
  const { handlers } = await svc()
  await assert.rejects(
    call(handlers, 'svc.moved'),
    (err: Error) =>
      err instanceof NonRetryableError &&
      /302 Found \(to http:\/\/127\.0\.0\.1:1\/elsewhere\); redirects are not followed/.test(err.message),
  )
})

test('the handler timeout aborts the request (the server sees the connection close)', async () => {
  routes.set('stuck', () => {})
  const { handlers } = await svc({ timeout: '150ms', retries: 0 })
  await assert.rejects(
    call(handlers, 'svc.stuck'),
    (err: Error) =>
      err instanceof HandlerTimeoutError && /svc\.stuck timed out after 150ms/.test(err.message),
  )
  for (let i = 0; i < 100 && !closed.includes('stuck'); i++) await new Promise((r) => setTimeout(r, 10))
  assert.ok(closed.includes('stuck'), 'the server saw the aborted request close')
})

test('the step signal aborts the request with its own reason, without retrying', async () => {
  routes.set('stuck_too', () => {})
  const { handlers, sleeps } = await svc({ retries: 3 })
  const controller = new AbortController()
  const pending = call(handlers, 'svc.stuck_too', {}, controller.signal)
  while (requestsTo('stuck_too').length === 0) await new Promise((r) => setTimeout(r, 5))
  controller.abort(new Error('step escalate timed out after 10000ms'))
  await assert.rejects(pending, /step escalate timed out after 10000ms/)
  assert.equal(requestsTo('stuck_too').length, 1)
  assert.deepEqual(sleeps, [])
})

test('an answer over 1 MiB is refused, with or without a content-length', async () => {
  const big = 'x'.repeat(MAX_RESPONSE_BYTES + 1)
  routes.set('huge_declared', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(big))
  routes.set('huge_streamed', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    for (let i = 0; i < 17; i++) res.write('y'.repeat(64 * 1024))
    res.end()
  })
  routes.set('just_fits', (_req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain' }).end(big.slice(1)),
  )
  const { handlers } = await svc()
  for (const name of ['huge_declared', 'huge_streamed']) {
    await assert.rejects(
      call(handlers, `svc.${name}`),
      (err: Error) =>
        err instanceof NonRetryableError && /larger than 1048576 bytes \(1 MiB\)/.test(err.message),
    )
  }
  assert.equal(((await call(handlers, 'svc.just_fits')) as string).length, MAX_RESPONSE_BYTES)
})

test('a JSON content type with a body that is not JSON is refused', async () => {
  routes.set('garbled', (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":'),
  )
  const { handlers } = await svc()
  await assert.rejects(
    call(handlers, 'svc.garbled'),
    (err: Error) =>
      err instanceof NonRetryableError && /says application\/json but is not JSON/.test(err.message),
  )
})

test('a refused connection is retried, then reported as a retryable error naming the cause', async () => {
  const closedServer = createServer()
  await new Promise<void>((resolve) => closedServer.listen(0, '127.0.0.1', resolve))
  const port = (closedServer.address() as AddressInfo).port
  await new Promise((resolve) => closedServer.close(resolve))
  const sleeps: number[] = []
  const handlers = await HandlerRegistry.load(
    { gone: { url: `http://127.0.0.1:${port}`, retries: 1 } },
    '/',
    {
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      random: () => 0.5,
    },
  )
  await assert.rejects(call(handlers, 'gone.ping'), (err: Error) => {
    assert.ok(!(err instanceof NonRetryableError))
    assert.match(err.message, /handler gone\.ping: POST http:\/\/127\.0\.0\.1:\d+\/ping failed: ECONNREFUSED/)
    assert.match(err.message, /\(attempt 2 of 2\)/)
    return true
  })
  assert.deepEqual(sleeps, [200])
})

test('without an injected sleep the backoff really waits, and the step signal cuts the wait short', async () => {
  routes.set('flaky_real', (_req, res, n) => (n === 1 ? json(res, 502, {}) : json(res, 200, { ok: true })))
  routes.set('limited_long', (_req, res) => json(res, 429, {}, { 'retry-after': '20' }))
  const handlers = await HandlerRegistry.load({ real: { url: base, retries: 3 } }, '/')
  assert.deepEqual(await call(handlers, 'real.flaky_real'), { ok: true })
  assert.equal(requestsTo('flaky_real').length, 2)
  const controller = new AbortController()
  const pending = call(handlers, 'real.limited_long', {}, controller.signal)
  while (requestsTo('limited_long').length === 0) await new Promise((r) => setTimeout(r, 5))
  controller.abort(new Error('run cancelled'))
  await assert.rejects(pending, /run cancelled/)
  assert.equal(requestsTo('limited_long').length, 1)
})
