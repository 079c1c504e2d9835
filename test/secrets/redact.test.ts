import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MIN_REDACTED_LENGTH, Redactor } from '../../src/core/redact.ts'

test('with no secret known, values come back untouched (the same objects)', () => {
  const r = new Redactor()
  const value = { a: 'x', b: [1, { c: 'y' }] }
  assert.equal(r.redact(value), value)
  assert.equal(r.redactText('plain'), 'plain')
})

test('a value is replaced by [secret:NAME] in strings, deep in objects and arrays, and in keys', () => {
  const r = new Redactor()
  r.remember('API_KEY', 'sk-live-4f9a')
  const input = {
    message: 'calling with sk-live-4f9a now',
    nested: { list: ['a', 'sk-live-4f9a', { deeper: 'x sk-live-4f9asuffix' }], n: 3, flag: true, none: null },
    'sk-live-4f9a': 'key',
  }
  assert.deepEqual(r.redact(input), {
    message: 'calling with [secret:API_KEY] now',
    nested: {
      list: ['a', '[secret:API_KEY]', { deeper: 'x [secret:API_KEY]suffix' }],
      n: 3,
      flag: true,
      none: null,
    },
    '[secret:API_KEY]': 'key',
  })
  assert.equal(input.message, 'calling with sk-live-4f9a now', 'the input is not modified')
})

test('parts without secrets are shared, not copied', () => {
  const r = new Redactor()
  r.remember('T', 'token-1234')
  const clean = { x: [1, 2, 3] }
  const out = r.redact({ clean, dirty: 'token-1234' })
  assert.equal(out.clean, clean)
})

test('JSON-escaped, URL-encoded and base64 forms are redacted too', () => {
  const r = new Redactor()
  const value = 'p@ss "word"/+é'
  r.remember('PW', value)
  const json = JSON.stringify({ password: value })
  assert.equal(r.redactText(json), '{"password":"[secret:PW]"}')
  assert.equal(r.redactText(`?pw=${encodeURIComponent(value)}`), '?pw=[secret:PW]')
  const b64 = Buffer.from(value).toString('base64').replace(/=+$/, '')
  assert.equal(r.redactText(`Basic ${b64}`), 'Basic [secret:PW]')
})

test('the longer of two overlapping values is replaced whole', () => {
  const r = new Redactor()
  r.remember('SHORT', 'abcd')
  r.remember('LONG', 'abcdefgh')
  assert.equal(r.redactText('abcdefgh abcd'), '[secret:LONG] [secret:SHORT]')
})

test('errors: message, stack and cause are redacted; the class is kept; the original is untouched', () => {
  const r = new Redactor()
  r.remember('DB', 'hunter2hunter2')
  const err = new TypeError('login failed for hunter2hunter2', { cause: new Error('inner hunter2hunter2') })
  const out = r.redact(err)
  assert.ok(out instanceof TypeError)
  assert.equal(out.message, 'login failed for [secret:DB]')
  assert.equal(String(out.stack).includes('hunter2hunter2'), false)
  assert.equal((out.cause as Error).message, 'inner [secret:DB]')
  assert.equal(err.message, 'login failed for hunter2hunter2')
  const record = r.redact({
    name: 'Error',
    message: 'x hunter2hunter2',
    cause: { name: 'E', message: 'hunter2hunter2' },
  })
  assert.deepEqual(record, {
    name: 'Error',
    message: 'x [secret:DB]',
    cause: { name: 'E', message: '[secret:DB]' },
  })
})

test('a value once known stays redacted after the secret changes; masked style names nothing', () => {
  const r = new Redactor({ style: 'masked' })
  r.remember('T', 'first-value')
  r.remember('T', 'second-value')
  assert.equal(r.redactText('first-value second-value'), '*** ***')
  assert.equal(r.size, 2)
})

test(`values shorter than ${MIN_REDACTED_LENGTH} characters are not redacted (they would shred text)`, () => {
  const r = new Redactor()
  r.remember('PIN', 'abc')
  assert.equal(r.redactText('abc'), 'abc')
  assert.equal(r.size, 0)
})

test('sync is asked before each redaction, so values set elsewhere are caught at once', () => {
  let pending: [string, string] | undefined
  let calls = 0
  const r = new Redactor({
    sync: (self) => {
      calls++
      if (pending) self.remember(...pending)
      pending = undefined
    },
  })
  assert.equal(r.redactText('late-secret'), 'late-secret')
  pending = ['LATE', 'late-secret']
  assert.equal(r.redactText('late-secret'), '[secret:LATE]')
  assert.equal(calls, 2)
})

test('cycles and hostile depth do not hang or leak', () => {
  const r = new Redactor()
  r.remember('S', 'cycle-secret')
  const a: Record<string, unknown> = { v: 'cycle-secret' }
  a.self = a
  const out = r.redact(a) as Record<string, unknown>
  assert.equal(out.v, '[secret:S]')
  let deep: unknown = 'cycle-secret'
  for (let i = 0; i < 1000; i++) deep = [deep]
  assert.equal(JSON.stringify(r.redact(deep)).includes('cycle-secret'), false)
})

test('regex metacharacters in values are literal', () => {
  const r = new Redactor()
  r.remember('RX', 'a.b*c(d)[e]$')
  assert.equal(r.redactText('xa.b*c(d)[e]$y aXbbbc'), 'x[secret:RX]y aXbbbc')
})
