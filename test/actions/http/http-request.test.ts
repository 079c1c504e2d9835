import assert from 'node:assert/strict'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { NonRetryableError, RetryAfterError } from '../../../src/core/errors.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { selfSignedCert } from '../../helpers/smtp.ts'
import { tempDir } from '../../helpers/tmp.ts'
import { httpRequestAction, startServer } from './servers.ts'

type Out = {
  status: number
  ok: boolean
  headers: Record<string, string>
  body: unknown
  url: string
  redirects: string[]
  attempts: number
}

const answers = new Map<string, number>()
/** Counts requests per path, for scripted sequences. */
const nth = (path: string): number => {
  const n = (answers.get(path) ?? 0) + 1
  answers.set(path, n)
  return n
}

const api = await startServer((req, res, hit) => {
  const url = new URL(req.url ?? '/', 'http://x')
  switch (url.pathname) {
    case '/json':
      res.setHeader('content-type', 'application/json; charset=utf-8')
      res.setHeader('x-request-id', 'abc')
      return res.end(JSON.stringify({ hello: 'world', query: Object.fromEntries(url.searchParams) }))
    case '/text':
      res.setHeader('content-type', 'text/plain')
      return res.end('plain words')
    case '/echo':
      res.setHeader('content-type', 'application/json')
      return res.end(
        JSON.stringify({ method: hit.method, headers: hit.headers, body: hit.body, query: url.search }),
      )
    case '/flaky-503':
      if (nth(url.pathname) === 1) {
        res.writeHead(503, { 'retry-after': '1' })
        return res.end('busy')
      }
      return res.end('recovered')
    case '/flaky-429-date':
      if (nth(url.pathname) === 1) {
        res.writeHead(429, { 'retry-after': new Date(Date.now() + 1000).toUTCString() })
        return res.end('slow down')
      }
      return res.end('ok now')
    case '/long-retry-after':
      res.writeHead(503, { 'retry-after': '120' })
      return res.end('maintenance')
    case '/always-500':
      res.writeHead(500)
      return res.end('broken')
    case '/missing':
      res.writeHead(404, { 'content-type': 'text/plain' })
      return res.end('no such thing')
    case '/big':
      res.setHeader('content-type', 'text/plain')
      return res.end('x'.repeat(2048))
    case '/big-chunked':
      res.setHeader('content-type', 'text/plain')
      res.write('y'.repeat(1000))
      res.write('y'.repeat(1000))
      return res.end()
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      return res.end(gzipSync(JSON.stringify({ packed: true })))
    case '/gzip-bomb':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' })
      return res.end(gzipSync(Buffer.alloc(1024 * 1024)))
    case '/not-json':
      res.setHeader('content-type', 'application/json')
      return res.end('{oops')
    case '/hang':
      return undefined
    case '/see-other':
      res.writeHead(303, { location: '/echo' })
      return res.end()
    case '/temporary':
      res.writeHead(307, { location: '/echo' })
      return res.end()
    case '/elsewhere':
      res.writeHead(302, { location: `${other.origin}/who` })
      return res.end()
    default:
      res.writeHead(404)
      return res.end()
  }
})
const other = await startServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(
    JSON.stringify({ authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null }),
  )
})

const action = httpRequestAction({ allow: ['127.0.0.1'] })
const call = (params: Record<string, unknown>, ctx = actionContext()) =>
  runAction(action, params, ctx) as Promise<Out>
const hitsOf = (path: string) => api.hits.filter((h) => h.url.split('?')[0] === path)

describe('http.request against a real server', () => {
  test('GET parses a JSON answer and reports status, headers, final URL', async () => {
    const out = await call({ url: `${api.origin}/json`, query: { q: 'a b', n: 2 } })
    assert.equal(out.status, 200)
    assert.equal(out.ok, true)
    assert.deepEqual(out.body, { hello: 'world', query: { q: 'a b', n: '2' } })
    assert.equal(out.headers['x-request-id'], 'abc')
    assert.equal(out.url, `${api.origin}/json?q=a+b&n=2`)
    assert.deepEqual(out.redirects, [])
    assert.equal(out.attempts, 1)
  })

  test('a text answer is returned as text; base64 on request', async () => {
    assert.equal((await call({ url: `${api.origin}/text` })).body, 'plain words')
    const b64 = await call({ url: `${api.origin}/text`, response_type: 'base64' })
    assert.equal(Buffer.from(b64.body as string, 'base64').toString(), 'plain words')
  })

  test('POST sends JSON with headers, the idempotency key and repeated query names', async () => {
    const ctx = actionContext({ idempotencyKey: 'run-9:notify:0' })
    const out = await call(
      {
        method: 'POST',
        url: `${api.origin}/echo`,
        headers: { Authorization: 'Bearer t0k3n', 'X-Trace': '42' },
        query: { tag: ['a', 'b'] },
        json: { n: 1, list: [true, null] },
      },
      ctx,
    )
    const seen = out.body as { method: string; headers: Record<string, string>; body: string; query: string }
    assert.equal(seen.method, 'POST')
    assert.equal(seen.headers['content-type'], 'application/json')
    assert.equal(seen.headers.authorization, 'Bearer t0k3n')
    assert.equal(seen.headers['x-trace'], '42')
    assert.equal(seen.headers['idempotency-key'], 'run-9:notify:0')
    assert.deepEqual(JSON.parse(seen.body), { n: 1, list: [true, null] })
    assert.equal(seen.query, '?tag=a&tag=b')
  })

  test('a text body is sent as text/plain unless a content type is given; no idempotency key when disabled', async () => {
    const plain = (await call({ method: 'PUT', url: `${api.origin}/echo`, body: 'line one' })).body as {
      headers: Record<string, string>
      body: string
    }
    assert.equal(plain.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(plain.body, 'line one')
    const csv = (
      await call({
        method: 'POST',
        url: `${api.origin}/echo`,
        body: 'a,b',
        headers: { 'content-type': 'text/csv' },
        idempotency_key: false,
      })
    ).body as { headers: Record<string, string> }
    assert.equal(csv.headers['content-type'], 'text/csv')
    assert.equal(csv.headers['idempotency-key'], undefined)
  })

  test('a body without a method is sent with POST', async () => {
    const seen = (await call({ url: `${api.origin}/echo`, json: { a: 1 } })).body as { method: string }
    assert.equal(seen.method, 'POST')
  })

  test('json and body together are refused before sending', async () => {
    await assert.rejects(
      call({ method: 'POST', url: `${api.origin}/echo`, json: {}, body: 'x' }),
      /pass `json` or `body`, not both/,
    )
  })

  test('503 with Retry-After in seconds is retried after that delay', async () => {
    const out = await call({ url: `${api.origin}/flaky-503` })
    assert.equal(out.body, 'recovered')
    assert.equal(out.attempts, 2)
    const [first, second] = hitsOf('/flaky-503')
    assert.ok(second!.at - first!.at >= 950, `retried after ${second!.at - first!.at}ms, Retry-After said 1s`)
  })

  test('429 with Retry-After as an HTTP date is retried', async () => {
    const out = await call({ url: `${api.origin}/flaky-429-date` })
    assert.equal(out.body, 'ok now')
    assert.equal(out.attempts, 2)
  })

  test('a Retry-After too long to wait in the step goes to the engine as RetryAfterError', async () => {
    await assert.rejects(call({ url: `${api.origin}/long-retry-after` }), (err) => {
      assert.ok(err instanceof RetryAfterError)
      assert.equal(err.retryAfterMs, 120_000)
      assert.match(err.message, /answered 503.*maintenance/)
      return true
    })
    assert.equal(hitsOf('/long-retry-after').length, 1)
  })

  test('a 5xx that stays fails after the retries, as a retryable error', async () => {
    await assert.rejects(call({ url: `${api.origin}/always-500`, retries: 1 }), (err) => {
      assert.ok(!(err instanceof NonRetryableError))
      assert.equal((err as { code?: string }).code, 'HS_ERR_HTTP_STATUS')
      assert.match((err as Error).message, /answered 500 Internal Server Error after 2 attempts: broken/)
      return true
    })
    assert.equal(hitsOf('/always-500').length, 2)
  })

  test('a 4xx fails at once, non-retryable, with the start of the body', async () => {
    await assert.rejects(call({ url: `${api.origin}/missing` }), (err) => {
      assert.ok(err instanceof NonRetryableError)
      assert.match(
        err.message,
        /GET http:\/\/127\.0\.0\.1:\d+\/missing answered 404 Not Found: no such thing/,
      )
      return true
    })
    assert.equal(hitsOf('/missing').length, 1)
  })

  test('fail_on_status: false returns the error answer as output', async () => {
    const out = await call({ url: `${api.origin}/missing`, fail_on_status: false })
    assert.equal(out.status, 404)
    assert.equal(out.ok, false)
    assert.equal(out.body, 'no such thing')
  })

  test('a body over max_response is refused, declared or streamed', async () => {
    for (const path of ['/big', '/big-chunked']) {
      await assert.rejects(call({ url: `${api.origin}${path}`, max_response: 1024 }), (err) => {
        assert.equal((err as { code?: string }).code, 'HS_ERR_HTTP_RESPONSE_TOO_LARGE')
        assert.match((err as Error).message, /larger than 1024 bytes/)
        return true
      })
    }
    assert.equal((await call({ url: `${api.origin}/big`, max_response: 4096 })).body, 'x'.repeat(2048))
  })

  test('max_response cannot raise http.max_response', async () => {
    const capped = httpRequestAction({ allow: ['127.0.0.1'], maxResponse: 1000 })
    await assert.rejects(
      runAction(capped, { url: `${api.origin}/big`, max_response: 1_000_000 }),
      /larger than 1000 bytes/,
    )
  })

  test('gzip answers are decoded, and the cap applies to the decoded size', async () => {
    assert.deepEqual((await call({ url: `${api.origin}/gzip` })).body, { packed: true })
    await assert.rejects(
      call({ url: `${api.origin}/gzip-bomb`, max_response: 64 * 1024 }),
      /larger than 65536 bytes/,
    )
  })

  test('content type JSON with a broken body: text in auto mode (with a warning), an error with response_type json', async () => {
    const ctx = actionContext()
    assert.equal((await call({ url: `${api.origin}/not-json` }, ctx)).body, '{oops')
    assert.ok(ctx.logs.some((l) => /not JSON; kept as text/.test(l)))
    await assert.rejects(
      call({ url: `${api.origin}/not-json`, response_type: 'json' }),
      /the answer is not JSON/,
    )
  })

  test('a server that does not answer times out (retryable, coded)', async () => {
    await assert.rejects(call({ url: `${api.origin}/hang`, timeout: '150ms', retries: 0 }), (err) => {
      assert.equal((err as { code?: string }).code, 'HS_ERR_HTTP_TIMEOUT')
      assert.ok(!(err instanceof NonRetryableError))
      assert.match((err as Error).message, /no complete answer within 150ms/)
      return true
    })
  })

  test('aborting the step aborts the request with the abort reason', async () => {
    const controller = new AbortController()
    const seen = hitsOf('/hang').length
    const pending = call(
      { url: `${api.origin}/hang`, timeout: '10s' },
      actionContext({ signal: controller.signal }),
    )
    while (hitsOf('/hang').length === seen) await new Promise((r) => setTimeout(r, 5))
    controller.abort(new Error('run cancelled'))
    await assert.rejects(pending, /run cancelled/)
  })

  test('303 turns POST into GET without the body; 307 keeps both', async () => {
    const seeOther = await call({ method: 'POST', url: `${api.origin}/see-other`, json: { a: 1 } })
    const s = seeOther.body as { method: string; body: string }
    assert.equal(s.method, 'GET')
    assert.equal(s.body, '')
    assert.deepEqual(seeOther.redirects, [`${api.origin}/echo`])
    const temporary = (await call({ method: 'POST', url: `${api.origin}/temporary`, json: { a: 1 } }))
      .body as {
      method: string
      body: string
    }
    assert.equal(temporary.method, 'POST')
    assert.equal(temporary.body, '{"a":1}')
  })

  test('credentials are not carried to another origin on a redirect', async () => {
    const out = await call({
      url: `${api.origin}/elsewhere`,
      headers: { authorization: 'Bearer secret-one', cookie: 'sid=1' },
    })
    assert.deepEqual(out.body, { authorization: null, cookie: null })
    assert.equal(out.url, `${other.origin}/who`)
  })

  test('follow_redirects: false returns the redirect itself', async () => {
    const out = await call({ url: `${api.origin}/see-other`, follow_redirects: false })
    assert.equal(out.status, 303)
    assert.equal(out.headers.location, '/echo')
  })

  test('the log names method and URL without the query (it may carry tokens)', async () => {
    const ctx = actionContext()
    await call({ url: `${api.origin}/json`, query: { api_key: 'k-123' } }, ctx)
    assert.ok(ctx.logs.some((l) => l.includes(`GET ${api.origin}/json answered 200`)))
    assert.ok(!ctx.logs.some((l) => l.includes('k-123')))
  })
})

describe('http.request over TLS', () => {
  test('an untrusted certificate fails non-retryably: verification is on, against the host name', async () => {
    const cert = await selfSignedCert(tempDir())
    const server = createServer({ key: cert.key, cert: cert.cert }, (_req, res) => res.end('secret'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const tlsAction = httpRequestAction({ allow: ['localhost'] })
    await assert.rejects(runAction(tlsAction, { url: `https://localhost:${port}/` }), (err) => {
      assert.ok(err instanceof NonRetryableError)
      assert.match(
        err.message,
        /GET https:\/\/localhost:\d+\/ failed: the server's TLS certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/,
      )
      return true
    })
  })
})

describe('http.request dry run', () => {
  test('plan() resolves and checks the destination, names method and URL, and sends nothing', async () => {
    const before = api.hits.length
    const plan = await action.plan!(
      { method: 'DELETE', url: `${api.origin}/json`, headers: { authorization: 'Bearer x' } },
      actionContext(),
    )
    assert.match(
      plan.summary,
      new RegExp(
        `^DELETE ${api.origin}/json \\(127\\.0\\.0\\.1 is allowed by http\\.allow entry "127\\.0\\.0\\.1"\\)`,
      ),
    )
    assert.equal((plan.details as { method: string }).method, 'DELETE')
    assert.deepEqual((plan.details as { guard: unknown }).guard, {
      allowed: true,
      reason: '127.0.0.1 is allowed by http.allow entry "127.0.0.1"',
      connectTo: '127.0.0.1',
    })
    assert.ok(!JSON.stringify(plan).includes('Bearer x'), 'header values are not shown')
    assert.equal(api.hits.length, before)
  })
})
