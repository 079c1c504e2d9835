import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ActionServices } from '../../../src/actions/action-services.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { httpRequestAction, mapLookup, startServer, v4, v6 } from './servers.ts'

/**
 * The SSRF corpus of issue 4: every destination below must be refused by `http.request` before a
 * byte is sent, with a message naming the destination and the reason; the allowed cases prove the
 * allow-list admits exactly what it names. Real servers on 127.0.0.1 stand for "internal services":
 * the canary must never be reached by a refused request.
 */

const canary = await startServer((_req, res) => res.end('internal secret'))
const second = await startServer((_req, res) => res.end('second'), '127.0.0.2')
const ipv6 = await startServer((req, res) => res.end(`v6 ${req.headers.host}`), '::1')
const redirector = await startServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/to') {
    res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('u')! })
    return res.end()
  }
  const hop = /^\/hop\/(\d+)$/.exec(url.pathname)
  if (hop) {
    const n = Number(hop[1])
    res.writeHead(302, {
      location: n > 0 ? `/hop/${n - 1}${url.search}` : (url.searchParams.get('u') ?? '/done'),
    })
    return res.end()
  }
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ path: url.pathname, host: req.headers.host }))
})

const P = () => canary.port
const lookup = mapLookup({
  'internal.test': [v4('10.0.0.5')],
  'rebind.test': [v4('127.0.0.1')],
  'mixed.test': [v4('10.1.1.1'), v4('192.168.1.1')],
  'v6only.test': [v6('::1')],
  'mapped.test': [v6('::ffff:127.0.0.1')],
  'meta.test': [v4('169.254.169.254')],
  'cgnat.test': [v4('100.64.10.10')],
  'ula.test': [v6('fd00::53')],
  '127.0.0.1.nip.io': [v4('127.0.0.1')],
  'public.test': [v4('93.184.216.34')],
  'blocked.test': [v4('93.184.216.34')],
  'a.b.evil.test': [v4('93.184.216.34')],
  'dns.test': [v4('8.8.8.8')],
})

interface DeniedCase {
  url: () => string
  /** What the message must say about why. */
  why: RegExp
  /** Text the message must contain to name the destination; default the URL as given. */
  names?: () => string
  http?: Partial<ActionServices['http']>
  method?: string
}

const c = (
  url: string | (() => string),
  why: RegExp,
  extra: Omit<DeniedCase, 'url' | 'why'> = {},
): DeniedCase => ({
  url: typeof url === 'string' ? () => url : url,
  why,
  ...extra,
})
const LOOP = /loopback/
const PRIV = /private/
const META = /metadata/

const DENIED: Record<string, DeniedCase> = {
  // IPv4 loopback, in every spelling the URL parser and inet_aton accept
  'loopback 127.0.0.1': c(() => `http://127.0.0.1:${P()}/`, LOOP),
  'loopback 127.0.0.2': c(() => `http://127.0.0.2:${P()}/`, LOOP),
  'loopback 127.255.255.254': c('http://127.255.255.254/', LOOP),
  'decimal 2130706433': c(() => `http://2130706433:${P()}/`, LOOP, { names: () => '2130706433' }),
  'hex 0x7f000001': c(() => `http://0x7f000001:${P()}/`, LOOP),
  'octal 0177.0.0.1': c(() => `http://0177.0.0.1:${P()}/`, LOOP),
  'short 127.1': c(() => `http://127.1:${P()}/`, LOOP),
  'mixed hex 0x7f.0.0.1': c(() => `http://0x7f.0.0.1:${P()}/`, LOOP),
  'short octal 0177.1': c(() => `http://0177.1:${P()}/`, LOOP),
  'whole octal 017700000001': c(() => `http://017700000001:${P()}/`, LOOP),
  'percent-encoded %31%32%37.0.0.1': c(() => `http://%31%32%37.0.0.1:${P()}/`, LOOP),
  'fullwidth digits １２７.0.0.1': c(() => `http://１２７.0.0.1:${P()}/`, LOOP),
  // IPv6 loopback and IPv4 loopback wrapped in IPv6
  'IPv6 ::1': c(() => `http://[::1]:${P()}/`, LOOP),
  'IPv6 long form 0:0:0:0:0:0:0:1': c(() => `http://[0:0:0:0:0:0:0:1]:${P()}/`, LOOP),
  'IPv4-mapped ::ffff:127.0.0.1': c(
    () => `http://[::ffff:127.0.0.1]:${P()}/`,
    /IPv4-mapped.*127\.0\.0\.1.*loopback/,
  ),
  'IPv4-mapped hex ::ffff:7f00:1': c(() => `http://[::ffff:7f00:1]:${P()}/`, /IPv4-mapped.*loopback/),
  'IPv4-compatible ::127.0.0.1': c('http://[::127.0.0.1]/', /IPv4-compatible.*loopback/),
  'NAT64 64:ff9b::127.0.0.1': c('http://[64:ff9b::127.0.0.1]/', /NAT64.*loopback/),
  // unspecified
  'unspecified 0.0.0.0': c(() => `http://0.0.0.0:${P()}/`, /unspecified/),
  'unspecified 0': c(() => `http://0:${P()}/`, /unspecified/),
  'unspecified [::]': c(() => `http://[::]:${P()}/`, /unspecified/),
  // private ranges
  'RFC 1918 10.0.0.1': c('http://10.0.0.1/', /private.*10\.0\.0\.0\/8/),
  'RFC 1918 10.255.255.255': c('http://10.255.255.255/', PRIV),
  'RFC 1918 172.16.0.1': c('http://172.16.0.1/', /private.*172\.16\.0\.0\/12/),
  'RFC 1918 172.31.255.254': c('http://172.31.255.254/', PRIV),
  'RFC 1918 192.168.0.1': c('http://192.168.0.1/', /private.*192\.168\.0\.0\/16/),
  'RFC 1918 192.168.1.254:8080': c('http://192.168.1.254:8080/admin', PRIV),
  'CGNAT 100.64.0.1': c('http://100.64.0.1/', /carrier-grade NAT/),
  'CGNAT 100.127.255.254': c('http://100.127.255.254/', /carrier-grade NAT/),
  'ULA fc00::1': c('http://[fc00::1]/', /unique local/),
  'ULA fd12:3456:789a::1': c('http://[fd12:3456:789a::1]/', /unique local/),
  'site-local fec0::1': c('http://[fec0::1]/', /site-local/),
  'IPv4-mapped ::ffff:10.0.0.1': c('http://[::ffff:10.0.0.1]/', /IPv4-mapped.*private/),
  'IPv4-mapped ::ffff:192.168.1.1': c('http://[::ffff:192.168.1.1]/', /IPv4-mapped.*private/),
  'NAT64 64:ff9b::10.0.0.1': c('http://[64:ff9b::10.0.0.1]/', /NAT64.*10\.0\.0\.1.*private/),
  '6to4 of 192.168.1.1': c('http://[2002:c0a8:101::1]/', /6to4.*192\.168\.1\.1.*private/),
  'local-use NAT64 64:ff9b:1::1': c('http://[64:ff9b:1::1]/', /local-use NAT64/),
  // link-local and cloud metadata
  'metadata 169.254.169.254': c('http://169.254.169.254/latest/meta-data/', META),
  'link-local 169.254.0.1': c('http://169.254.0.1/', /link-local/),
  'IPv6 link-local fe80::1': c('http://[fe80::1]/', /link-local/),
  'AWS IPv6 metadata fd00:ec2::254': c('http://[fd00:ec2::254]/latest/meta-data/', META),
  'IPv4-mapped metadata ::ffff:169.254.169.254': c(
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    /IPv4-mapped.*metadata/,
  ),
  'IPv4-mapped metadata hex ::ffff:a9fe:a9fe': c('http://[::ffff:a9fe:a9fe]/', META),
  'decimal metadata 2852039166': c('http://2852039166/latest/meta-data/', META),
  'hex metadata 0xa9fea9fe': c('http://0xa9fea9fe/', META),
  'octal metadata 0251.0376.0251.0376': c('http://0251.0376.0251.0376/', META),
  'name metadata.google.internal': c(
    'http://metadata.google.internal/computeMetadata/v1/',
    /metadata service name/,
  ),
  'name metadata.google.internal. (trailing dot)': c(
    'http://metadata.google.internal./',
    /metadata service name/,
  ),
  'Alibaba metadata 100.100.100.200': c('http://100.100.100.200/latest/meta-data/', META),
  // multicast, broadcast, reserved
  'multicast 224.0.0.1': c('http://224.0.0.1/', /multicast/),
  'multicast 239.255.255.250': c('http://239.255.255.250:1900/', /multicast/),
  'broadcast 255.255.255.255': c('http://255.255.255.255/', /broadcast/),
  'IPv6 multicast ff02::1': c('http://[ff02::1]/', /multicast/),
  'reserved 240.0.0.1': c('http://240.0.0.1/', /reserved/),
  'documentation 192.0.2.1': c('http://192.0.2.1/', /reserved/),
  'documentation 2001:db8::1': c('http://[2001:db8::1]/', /reserved/),
  // names that resolve to internal addresses
  localhost: c(() => `http://localhost:${P()}/`, /localhost is a loopback name/),
  'LOCALHOST (case)': c(() => `http://LOCALHOST:${P()}/`, /loopback name/, { names: () => 'LOCALHOST' }),
  'localhost. (trailing dot)': c(() => `http://localhost.:${P()}/`, /loopback name/),
  'app.localhost': c(() => `http://app.localhost:${P()}/`, /app\.localhost is a loopback name/),
  'name resolving to 10.0.0.5': c(
    'http://internal.test/',
    /internal\.test resolves to 10\.0\.0\.5: .*private/,
  ),
  'name resolving to 127.0.0.1': c(
    'http://rebind.test/',
    /rebind\.test resolves to 127\.0\.0\.1: .*loopback/,
  ),
  'name resolving to two private addresses': c('http://mixed.test/', /10\.1\.1\.1, 192\.168\.1\.1/),
  'name resolving to ::1': c('http://v6only.test/', /resolves to ::1: .*loopback/),
  'name resolving to ::ffff:127.0.0.1': c('http://mapped.test/', /IPv4-mapped.*loopback/),
  'name resolving to the metadata address': c('http://meta.test/', META),
  'name resolving to CGNAT': c('http://cgnat.test/', /carrier-grade NAT/),
  'name resolving to ULA': c('http://ula.test/', /unique local/),
  'nip.io-style 127.0.0.1.nip.io': c('http://127.0.0.1.nip.io/', LOOP),
  // schemes and URL forms other than http(s)
  'file:': c('file:///etc/passwd', /scheme file: is not allowed/),
  'ftp:': c('ftp://example.com/', /scheme ftp: is not allowed/),
  'gopher:': c(() => `gopher://127.0.0.1:${P()}/_GET%20/`, /scheme gopher:/),
  'data:': c('data:text/plain,hello', /scheme data:/),
  'javascript:': c('javascript:alert(1)', /scheme javascript:/),
  'dict:': c('dict://127.0.0.1:11211/stats', /scheme dict:/),
  'ws:': c('ws://example.com/', /scheme ws:/),
  'relative URL': c('/etc/passwd', /not a valid absolute URL/),
  'credentials in URL': c('http://user:pass@public.test/', /credentials in the URL/),
  // the deny list, also over an allow entry
  'deny by name': c('http://blocked.test/', /http\.deny entry "blocked\.test"/, {
    http: { deny: ['blocked.test'] },
  }),
  'deny by wildcard': c('http://a.b.evil.test/', /http\.deny entry "\*\.evil\.test"/, {
    http: { deny: ['*.evil.test'] },
  }),
  'deny CIDR over allow IP': c('http://dns.test/', /8\.8\.8\.8 matches http\.deny entry "8\.8\.8\.0\/24"/, {
    http: { allow: ['8.8.8.8'], deny: ['8.8.8.0/24'] },
  }),
  'allow on another port only': c(() => `http://127.0.0.1:${P()}/`, LOOP, {
    http: { allow: ['127.0.0.1:1'] },
  }),
}

/** Redirects from an allowed server to a refused destination: refused at the hop, naming it. */
const REDIRECTS: Record<
  string,
  { location: () => string; why: RegExp; names: () => string; status?: number; hops?: number }
> = {
  'to loopback on another port': {
    location: () => `http://127.0.0.1:${P()}/`,
    why: LOOP,
    names: () => `redirect 1 of GET ${redirector.origin}/to`,
  },
  'to the metadata address': {
    location: () => 'http://169.254.169.254/latest/meta-data/',
    why: META,
    names: () => 'to http://169.254.169.254/latest/meta-data/',
  },
  'to IPv6 loopback': {
    location: () => `http://[::1]:${P()}/`,
    why: LOOP,
    names: () => `to http://[::1]:${P()}/`,
  },
  'to localhost': {
    location: () => `http://localhost:${P()}/`,
    why: /loopback name/,
    names: () => `to http://localhost:${P()}/`,
  },
  'to file:': {
    location: () => 'file:///etc/passwd',
    why: /scheme file:/,
    names: () => 'to file:///etc/passwd',
  },
  'to a decimal IP': {
    location: () => `http://2130706433:${P()}/`,
    why: LOOP,
    names: () => `to http://127.0.0.1:${P()}/`,
  },
  'to a private name': {
    location: () => 'http://internal.test/',
    why: PRIV,
    names: () => 'to http://internal.test/',
  },
  '307 keeping POST, to metadata': {
    location: () => 'http://169.254.169.254/',
    status: 307,
    why: META,
    names: () => 'redirect 1 of POST',
  },
  'after two allowed hops': {
    location: () => `http://127.0.0.2:${second.port}/`,
    hops: 2,
    why: LOOP,
    names: () => 'redirect 3 of GET',
  },
}

function denied(err: unknown, check: { why: RegExp; names: string }): true {
  const e = err as Error & { code?: string }
  assert.equal(e.code, 'HS_ERR_HTTP_DESTINATION_DENIED', `expected a refusal, got ${e.code}: ${e.message}`)
  assert.equal(e.name, 'DestinationDeniedError')
  assert.match(e.message, /^refused /)
  assert.ok(e.message.includes(check.names), `message should name ${check.names}: ${e.message}`)
  assert.match(e.message, check.why)
  return true
}

describe('SSRF corpus: refused destinations', () => {
  for (const [name, kase] of Object.entries(DENIED)) {
    test(name, async () => {
      const action = httpRequestAction({ lookup, ...kase.http })
      const url = kase.url()
      await assert.rejects(runAction(action, { url, method: kase.method ?? 'GET', retries: 0 }), (err) =>
        denied(err, { why: kase.why, names: kase.names?.() ?? url }),
      )
      // the dry run performs the same check and refuses the same way
      await assert.rejects(Promise.resolve(action.plan!({ url }, actionContext())), (err) =>
        denied(err, { why: kase.why, names: kase.names?.() ?? url }),
      )
    })
  }
  for (const [name, kase] of Object.entries(REDIRECTS)) {
    test(`redirect ${name}`, async () => {
      const action = httpRequestAction({ lookup, allow: [`127.0.0.1:${redirector.port}`] })
      const target = encodeURIComponent(kase.location())
      const path = kase.hops
        ? `/hop/${kase.hops}?u=${target}`
        : `/to?status=${kase.status ?? 302}&u=${target}`
      await assert.rejects(
        runAction(action, {
          url: `${redirector.origin}${path}`,
          method: kase.status === 307 ? 'POST' : 'GET',
          json: {},
          retries: 0,
        }),
        (err) => denied(err, { why: kase.why, names: kase.names() }),
      )
    })
  }
  test('more than 5 redirects are refused', async () => {
    const action = httpRequestAction({ allow: [`127.0.0.1:${redirector.port}`] })
    await assert.rejects(
      runAction(action, { url: `${redirector.origin}/hop/6`, retries: 0 }),
      /more than 5 redirects/,
    )
  })
  test('no refused request reached a server', () => {
    assert.deepEqual(canary.hits, [])
    assert.deepEqual(second.hits, [])
    assert.equal(ipv6.hits.length, 0)
  })
})

describe('SSRF corpus: what the allow-list admits', () => {
  const get = async (http: Partial<ActionServices['http']>, url: string) =>
    (await runAction(httpRequestAction({ lookup, ...http }), { url })) as {
      status: number
      body: unknown
      url: string
    }

  test('an allowed IP is reached', async () => {
    const out = await get({ allow: ['127.0.0.1'] }, `http://127.0.0.1:${P()}/a`)
    assert.equal(out.body, 'internal secret')
  })
  test('an allowed IP with its port is reached, and only on that port', async () => {
    const out = await get({ allow: [`127.0.0.1:${redirector.port}`] }, `${redirector.origin}/x`)
    assert.deepEqual(out.body, { path: '/x', host: `127.0.0.1:${redirector.port}` })
  })
  test('an allowed CIDR admits its addresses', async () => {
    const out = await get({ allow: ['127.0.0.0/8'] }, `http://127.0.0.2:${second.port}/`)
    assert.equal(out.body, 'second')
  })
  test('the decimal form of an allowed IP is that IP', async () => {
    const out = await get({ allow: ['127.0.0.1'] }, `http://2130706433:${P()}/`)
    assert.equal(out.url, `http://127.0.0.1:${P()}/`)
    assert.equal(out.body, 'internal secret')
  })
  test('an allowed IPv6 literal is reached, with a bracketed Host', async () => {
    const out = await get({ allow: ['::1'] }, `http://[::1]:${ipv6.port}/`)
    assert.equal(out.body, `v6 [::1]:${ipv6.port}`)
  })
  test('a name resolving to an allowed IPv6 address is connected to over IPv6', async () => {
    const names = mapLookup({ 'six.test': [v6('::1')] })
    const out = await get({ allow: [`[::1]:${ipv6.port}`], lookup: names }, `http://six.test:${ipv6.port}/`)
    assert.equal(out.body, `v6 six.test:${ipv6.port}`)
  })
  test('an allow entry written as IPv4-mapped IPv6 admits the IPv4 address', async () => {
    const out = await get({ allow: ['::ffff:127.0.0.1'] }, `http://127.0.0.1:${P()}/`)
    assert.equal(out.status, 200)
  })
  test('an allowed name (localhost) is reached on loopback', async () => {
    const out = await get({ allow: ['localhost'] }, `http://localhost:${redirector.port}/n`)
    assert.deepEqual(out.body, { path: '/n', host: `localhost:${redirector.port}` })
  })
  test('a wildcard admits subdomains, keeping the name in Host', async () => {
    const out = await get({ allow: ['*.localhost'] }, `http://api.localhost:${redirector.port}/w`)
    assert.deepEqual(out.body, { path: '/w', host: `api.localhost:${redirector.port}` })
  })
  test('an allowed name resolving to a private address is reached at the checked address', async () => {
    const names = mapLookup({ 'svc.internal.test': [v4('127.0.0.1')] })
    const out = await get(
      { allow: ['svc.internal.test'], lookup: names },
      `http://svc.internal.test:${redirector.port}/s`,
    )
    assert.deepEqual(out.body, { path: '/s', host: `svc.internal.test:${redirector.port}` })
  })
  test('DNS rebinding: the name is resolved once and the socket goes to the checked address', async () => {
    let calls = 0
    const names = mapLookup({ 'flip.test': () => (calls++ === 0 ? [v4('127.0.0.1')] : [v4('127.0.0.2')]) })
    const out = await get({ allow: ['127.0.0.1'], lookup: names }, `http://flip.test:${P()}/`)
    assert.equal(out.body, 'internal secret')
    assert.deepEqual(names.calls, ['flip.test'])
  })
  test('of several addresses only an allowed one is connected to', async () => {
    const names = mapLookup({ 'two.test': [v4('10.0.0.9'), v4('127.0.0.1')] })
    const out = await get(
      { allow: [`127.0.0.1:${redirector.port}`], lookup: names },
      `http://two.test:${redirector.port}/t`,
    )
    assert.deepEqual(out.body, { path: '/t', host: `two.test:${redirector.port}` })
  })
  test('a redirect to an allowed destination is followed and reported', async () => {
    const out = (await runAction(httpRequestAction({ allow: [`127.0.0.1:${redirector.port}`] }), {
      url: `${redirector.origin}/hop/2`,
    })) as { body: unknown; redirects: string[] }
    assert.deepEqual(out.body, { path: '/done', host: `127.0.0.1:${redirector.port}` })
    assert.deepEqual(out.redirects, [
      `${redirector.origin}/hop/1`,
      `${redirector.origin}/hop/0`,
      `${redirector.origin}/done`,
    ])
  })
})

test('the corpus holds at least 50 refused destinations', () => {
  assert.ok(Object.keys(DENIED).length + Object.keys(REDIRECTS).length >= 50)
})
