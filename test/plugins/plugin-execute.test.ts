import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import { PluginCommands, pluginActions } from '../../src/actions/plugin-actions.ts'
import type { ActionDefinition } from '../../src/core/action.ts'
import { NonRetryableError } from '../../src/core/errors.ts'
import wordCount from '../../examples/plugins/word-count/index.ts'
import { actionContext, runAction } from '../helpers/action-context.ts'

function execute(): { action: ActionDefinition; calls: unknown[] } {
  const commands = new PluginCommands()
  const calls: unknown[] = []
  commands.add('word-count', wordCount.commands!)
  commands.add('ops', {
    restart: {
      description: 'restarts a service',
      params: {
        type: 'object',
        properties: { service: { type: 'string' }, graceful: { type: 'boolean', default: true } },
        required: ['service'],
        additionalProperties: false,
      },
      run: (args, ctx) => {
        calls.push({ args, key: ctx.idempotencyKey })
        return { restarted: args.service, graceful: args.graceful }
      },
    },
    version: () => '1.2.3',
    nothing: () => undefined,
    list: () => [1, 2],
    slow: (_args, ctx) =>
      new Promise((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
      ),
  })
  return { action: pluginActions(commands)[0]!, calls }
}

test('plugin.execute runs a command with checked args and the step context', async () => {
  const { action, calls } = execute()
  const out = await runAction(
    action,
    { plugin: 'ops', command: 'restart', args: { service: 'api' } },
    actionContext({ idempotencyKey: 'run-3:restart:0' }),
  )
  assert.deepEqual(out, { restarted: 'api', graceful: true }, 'schema defaults are applied')
  assert.deepEqual(calls, [{ args: { service: 'api', graceful: true }, key: 'run-3:restart:0' }])
  const ctx = actionContext()
  assert.deepEqual(
    await runAction(action, { plugin: 'word-count', command: 'summarise', args: { text: 'a b a' } }, ctx),
    {
      summary: '3 words, 1 lines; mostly "a"',
      count: { words: 3, lines: 1, characters: 5, top: [{ word: 'a', count: 2 }] },
    },
  )
  assert.deepEqual(ctx.logs, ['info: summarised a text {"words":3}'])
})

/** command, expected output: non-object results are wrapped. */
const RESULTS: Array<[string, unknown]> = [
  ['version', { result: '1.2.3' }],
  ['nothing', { result: null }],
  ['list', { result: [1, 2] }],
]
for (const [command, expected] of RESULTS) {
  test(`plugin.execute wraps what ${command} returns`, async () => {
    assert.deepEqual(await runAction(execute().action, { plugin: 'ops', command }), expected)
  })
}

/** params, expected error: all non-retryable and naming what exists. */
const REFUSED: Array<[Record<string, unknown>, RegExp]> = [
  [
    { plugin: 'opz', command: 'restart' },
    /no plugin `opz` is loaded; did you mean `ops`\? Loaded plugins: word-count, ops/,
  ],
  [
    { plugin: 'ops', command: 'restar' },
    /plugin `ops` has no command `restar`; did you mean `restart`\? Its commands: restart, version, nothing, list, slow/,
  ],
  [{ plugin: 'ops', command: 'restart', args: {} }, /args of ops\.restart: .*service/],
  [
    { plugin: 'ops', command: 'restart', args: { service: 'api', force: true } },
    /args of ops\.restart: .*force/,
  ],
  [{ plugin: 'ops', command: 'restart', args: { service: 7 } }, /args of ops\.restart: .*string/],
]
for (const [params, message] of REFUSED) {
  test(`plugin.execute refuses ${JSON.stringify(params)}`, async () => {
    const { action, calls } = execute()
    await assert.rejects(runAction(action, params), (err: Error) => {
      assert.ok(err instanceof NonRetryableError, err.message)
      assert.match(err.message, message)
      return true
    })
    assert.deepEqual(calls, [], 'nothing ran')
  })
}

test('plugin.execute plan(): a command with side effects is described, a read-only one runs', async () => {
  const { action, calls } = execute()
  const plan = await action.plan!(
    { plugin: 'ops', command: 'restart', args: { service: 'api' } },
    actionContext(),
  )
  assert.deepEqual(plan, {
    summary: 'run plugin command ops.restart',
    details: { plugin: 'ops', command: 'restart', args: { service: 'api', graceful: true } },
  })
  assert.deepEqual(calls, [], 'planning runs nothing')
  const readOnly = await action.plan!(
    { plugin: 'word-count', command: 'summarise', args: { text: 'x' } },
    actionContext(),
  )
  assert.equal(readOnly.summary, 'ran read-only plugin command word-count.summarise')
  assert.deepEqual(
    (readOnly.details as { output: { summary: string } }).output.summary,
    '1 words, 1 lines; mostly "x"',
  )
  await assert.rejects(
    Promise.resolve(action.plan!({ plugin: 'ops', command: 'restart', args: {} }, actionContext())),
    /args of ops\.restart/,
  )
})

test('plugin.execute gives the step back when it is aborted', async () => {
  const controller = new AbortController()
  const running = runAction(
    execute().action,
    { plugin: 'ops', command: 'slow' },
    actionContext({ signal: controller.signal }),
  )
  const reason = new Error('step timed out')
  controller.abort(reason)
  await assert.rejects(running, (err: Error) => err === reason)
})

test('plugin.execute is registered without plugins, and then names none', async () => {
  const action = builtinActions().get('plugin.execute')!
  assert.equal(action.sideEffects, true)
  const ajv = new Ajv({ strict: true })
  ajv.compile(action.params)
  ajv.compile(action.output!)
  await assert.rejects(
    runAction(action, { plugin: 'x', command: 'y' }),
    /no plugin `x` is loaded\. Loaded plugins: none/,
  )
})

test('PluginCommands refuses commands it cannot run', () => {
  const commands = new PluginCommands()
  assert.throws(() => commands.add('p', { 'bad name': () => 1 }), /command `bad name`: a command name/)
  assert.throws(
    () => commands.add('p', { go: { run: 5 } as never }),
    /must be a function or \{ run: function, params\? \}/,
  )
  assert.throws(
    () => commands.add('p', { go: { params: { type: 'nope' }, run: () => 1 } }),
    /its params schema is invalid/,
  )
})
