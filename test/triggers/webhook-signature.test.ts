import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import {
  decodeStandardSecret,
  signGithub,
  signStandard,
  verifyGithub,
  verifyStandard,
} from '../../src/triggers/webhook-signature.ts'
import { bytes, whsec } from './webhook-harness.ts'

test('the Standard Webhooks reference vector verifies, and any change to it does not', () => {
  // the vector of the standard-webhooks libraries' own tests
  const key = decodeStandardSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
  assert.ok(key instanceof Uint8Array)
  const body = bytes('{"test": 2432232314}')
  const headers = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  }
  assert.equal(signStandard(headers['webhook-id'], 1614265330, body, key), headers['webhook-signature'])
  const now = 1614265330_000
  assert.deepEqual(verifyStandard({ headers, body, keys: [key], nowMs: now }), {
    ok: true,
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
  })
  const changed = verifyStandard({ headers, body: bytes('{"test": 2432232315}'), keys: [key], nowMs: now })
  assert.equal(changed.ok, false)
})

test('GitHub: the documented example signature verifies', () => {
  // docs.github.com "Validating webhook deliveries"
  const secret = bytes("It's a Secret to Everybody")
  const body = bytes('Hello, World!')
  const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'
  assert.equal(signGithub(body, secret), signature)
  const check = verifyGithub({
    headers: { 'x-hub-signature-256': signature, 'x-github-delivery': 'd1' },
    body,
    keys: [secret],
  })
  assert.deepEqual(check, { ok: true, id: 'd1' })
})

test('interop both ways with the standardwebhooks package, bodies with multi-byte characters included', () => {
  const { secret, key } = whsec('interop')
  const wh = new Webhook(secret)
  const at = new Date(1_700_000_000_000)
  for (const text of ['', '{}', '{"name":"Zoë","emoji":"🚀"}', 'plain text\nwith lines']) {
    const body = bytes(text)
    const ours = signStandard('msg_interop', 1_700_000_000, body, key)
    assert.equal(ours, wh.sign('msg_interop', at, text), `same signature for ${JSON.stringify(text)}`)
    const headers = {
      'webhook-id': 'msg_interop',
      'webhook-timestamp': '1700000000',
      'webhook-signature': ours,
    }
    // the package checks its own clock: verify against a fresh timestamp
    const fresh = Math.floor(Date.now() / 1000)
    const freshSig = signStandard('msg_interop', fresh, body, key)
    assert.doesNotThrow(() =>
      wh.verify(
        text,
        { ...headers, 'webhook-timestamp': String(fresh), 'webhook-signature': freshSig },
        { jsonParse: false },
      ),
    )
    assert.equal(verifyStandard({ headers, body, keys: [key], nowMs: at.getTime() }).ok, true)
  }
})

test('secrets: whsec_ base64 of at least 24 bytes; the problem says what to write', () => {
  const cases: Array<[string, RegExp | number]> = [
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 24],
    [whsec('x').secret, 32],
    ['s3cret', /followed by base64/],
    ['whsec_', /not base64/],
    ['whsec_not*base64!', /not base64/],
    ['whsec_c2hvcnQ=', /decodes to 5 bytes; use at least 24/],
    [`whsec_${Buffer.alloc(23).toString('base64')}`, /decodes to 23 bytes/],
  ]
  for (const [secret, expected] of cases) {
    const key = decodeStandardSecret(secret)
    if (typeof expected === 'number') {
      assert.ok(key instanceof Uint8Array, secret)
      assert.equal(key.length, expected)
    } else assert.match(String(key), expected, secret)
  }
})

test('several signatures against several secrets: any one pair passes', () => {
  const keys = [whsec('a'), whsec('b'), whsec('c')]
  const body = bytes('{"x":1}')
  const sig = (k: Uint8Array): string => signStandard('m1', 100, body, k)
  const verify = (signature: string, accepted: Uint8Array[]): boolean =>
    verifyStandard({
      headers: { 'webhook-id': 'm1', 'webhook-timestamp': '100', 'webhook-signature': signature },
      body,
      keys: accepted,
      nowMs: 100_000,
    }).ok
  assert.equal(verify(`${sig(keys[0]!.key)} ${sig(keys[1]!.key)}`, [keys[1]!.key]), true)
  assert.equal(verify(sig(keys[2]!.key), [keys[0]!.key, keys[1]!.key, keys[2]!.key]), true)
  assert.equal(verify(`${sig(keys[0]!.key)} ${sig(keys[1]!.key)}`, [keys[2]!.key]), false)
  assert.equal(verify(sig(keys[0]!.key), []), false, 'no secret: nothing passes')
})

test('a refusal names what is wrong and never the expected signature', () => {
  const { key } = whsec('leak')
  const body = bytes('{"a":1}')
  const expected = signStandard('m', 1000, body, key).slice(3)
  const wrong = verifyStandard({
    headers: { 'webhook-id': 'm', 'webhook-timestamp': '1000', 'webhook-signature': `v1,${'A'.repeat(43)}=` },
    body,
    keys: [key],
    nowMs: 1_000_000,
  })
  assert.equal(wrong.ok, false)
  assert.ok(!wrong.ok && !wrong.message.includes(expected) && !wrong.message.includes(expected.slice(0, 8)))
  assert.match(!wrong.ok ? wrong.message : '', /none of the 1 v1 signature\(s\) matches/)
  const gh = verifyGithub({
    headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}`, 'x-github-delivery': 'd' },
    body,
    keys: [key],
  })
  const ghExpected = signGithub(body, key).slice(7)
  assert.ok(!gh.ok && !gh.message.includes(ghExpected.slice(0, 8)))
})

test('a header sent twice is malformed, not merged', () => {
  const { key } = whsec('twice')
  const body = bytes('x')
  const signature = signStandard('m', 50, body, key)
  const check = verifyStandard({
    headers: { 'webhook-id': 'm', 'webhook-timestamp': '50', 'webhook-signature': [signature, signature] },
    body,
    keys: [key],
    nowMs: 50_000,
  })
  assert.deepEqual(check.ok ? 'ok' : check.reason, 'malformed_header')
})
