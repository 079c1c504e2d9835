import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { HsError, NonRetryableError } from '../../src/core/errors.ts'
import { HandlerTimeoutError } from '../../src/core/handler-port.ts'
import { HandlerRegistry } from '../../src/mesh/handler-registry.ts'

const FIXTURES = resolve(import.meta.dirname, 'fixtures')
const opts = (signal = new AbortController().signal) => ({ signal, idempotencyKey: 'run1:step1:0' })

async function registry(): Promise<HandlerRegistry> {
  return HandlerRegistry.load(
    {
      kernel: { module: './class-kernel.ts' },
      named: { module: './named-kernel.ts' },
      remote: { url: 'http://127.0.0.1:9/rpc/' },
    },
    FIXTURES,
  )
}

test('a module handler is called with (args, context) and `this` bound to its object', async () => {
  const handlers = await registry()
  assert.deepEqual(await handlers.call('kernel.greet', { name: 'ada' }, opts()), {
    greeting: 'k:ada',
    key: 'run1:step1:0',
  })
  assert.deepEqual(await handlers.call('named.ping', { n: 1 }, opts()), { pong: 2 })
  assert.deepEqual(await handlers.call('kernel.list', {}, opts()), ['a', 'b'])
  assert.equal(await handlers.call('kernel.nothing', undefined, opts()), null)
})

test('describe lists handlers by name with the methods of module handlers; _private and non-functions are not methods', async () => {
  const handlers = await registry()
  assert.deepEqual(handlers.describe(), [
    {
      name: 'kernel',
      kind: 'module',
      methods: ['cyclic', 'fail', 'greet', 'hang', 'list', 'mutate', 'nothing'],
    },
    { name: 'named', kind: 'module', methods: ['ping'] },
    { name: 'remote', kind: 'http' },
  ])
  await assert.rejects(handlers.call('kernel._secret', {}, opts()), NonRetryableError)
})

test('a handler gets a copy of the args: mutating them does not change the caller’s object', async () => {
  const handlers = await registry()
  const args = { items: ['x'] }
  assert.deepEqual(await handlers.call('kernel.mutate', args, opts()), { items: ['x', 'changed'] })
  assert.deepEqual(args, { items: ['x'] })
})

test('unknown handler and unknown method are non-retryable and list what exists', async () => {
  const handlers = await registry()
  await assert.rejects(handlers.call('kernal.greet', {}, opts()), (err: Error) => {
    assert.ok(err instanceof NonRetryableError)
    assert.match(err.message, /unknown handler `kernal` in target `kernal.greet`; did you mean `kernel`\?/)
    assert.match(err.message, /Configured handlers: `kernel`, `named`, `remote`/)
    return true
  })
  await assert.rejects(handlers.call('kernel.gret', {}, opts()), (err: Error) => {
    assert.ok(err instanceof NonRetryableError)
    assert.match(
      err.message,
      /handler `kernel` has no method `gret` \(target `kernel.gret`\); did you mean `greet`\?/,
    )
    assert.match(err.message, /Its methods: `cyclic`, `fail`, `greet`/)
    return true
  })
  await assert.rejects(handlers.call('not a target', {}, opts()), /is not of the form handler\.method/)
})

test('a module method that ignores its signal is abandoned on abort, and on its own call timeout', async () => {
  const handlers = await registry()
  const controller = new AbortController()
  const pending = handlers.call('kernel.hang', {}, opts(controller.signal))
  controller.abort(new Error('step timed out'))
  await assert.rejects(pending, /step timed out/)
  await assert.rejects(
    handlers.call('kernel.hang', {}, { ...opts(), timeoutMs: 30 }),
    (err: Error) =>
      err instanceof HandlerTimeoutError && /kernel\.hang timed out after 30ms/.test(err.message),
  )
})

test('errors thrown by a method pass through (retryable: false is kept); a result that is not JSON is refused', async () => {
  const handlers = await registry()
  await assert.rejects(handlers.call('kernel.fail', {}, opts()), (err: Error & { retryable?: boolean }) => {
    assert.equal(err.message, 'bad input')
    assert.equal(err.retryable, false)
    return true
  })
  await assert.rejects(
    handlers.call('kernel.cyclic', {}, opts()),
    (err: Error) => err instanceof NonRetryableError && /cannot be stored as JSON/.test(err.message),
  )
})

test('configuration problems are reported all at once, each naming handlers.<name>.<key>', async () => {
  await assert.rejects(
    HandlerRegistry.load(
      {
        both: { module: './x.ts', url: 'http://127.0.0.1' } as never,
        'bad name': { module: './x.ts' },
        ftp: { url: 'ftp://example.test/' },
        slow: { url: 'http://127.0.0.1:1', timeout: 'soon', retries: 99, headers: { 'x-a': 'one\ntwo' } },
        extra: { module: './x.ts', timeout: '1s' } as never,
      },
      FIXTURES,
    ),
    (err: Error) => {
      assert.ok(err instanceof HsError)
      assert.equal(err.code, 'HS_ERR_CONFIG_INVALID')
      for (const line of [
        'handlers.both: give exactly one of `module`',
        'handlers.bad name: a handler name is letters',
        'handlers.ftp.url: must use http or https, not ftp:',
        'handlers.slow.timeout: not a positive duration: "soon"',
        'handlers.slow.retries: must be a whole number from 0 to 10, not 99',
        'handlers.slow.headers.x-a: must be a single-line string',
        'handlers.extra: unknown key `timeout` (known: module)',
      ])
        assert.ok(err.message.includes(line), `missing "${line}" in:\n${err.message}`)
      return true
    },
  )
})

test('a module that cannot be loaded or exports no methods stops start-up with the handler name', async () => {
  await assert.rejects(
    HandlerRegistry.load({ gone: { module: './missing-kernel.ts' } }, FIXTURES),
    (err: Error) =>
      err instanceof HsError && /handlers\.gone: cannot load module \.\/missing-kernel\.ts/.test(err.message),
  )
  await assert.rejects(
    HandlerRegistry.load({ empty: { module: './empty-kernel.ts' } }, FIXTURES),
    (err: Error) =>
      err instanceof HsError &&
      /handlers\.empty: module \.\/empty-kernel\.ts exports no methods/.test(err.message),
  )
})

test('no handlers configured: every call names the missing configuration', async () => {
  const handlers = await HandlerRegistry.load(undefined, FIXTURES)
  assert.deepEqual(handlers.describe(), [])
  await assert.rejects(
    handlers.call('avn_core.escalate_healing', {}, opts()),
    /Configured handlers: none\. Add it under `handlers:`/,
  )
})
