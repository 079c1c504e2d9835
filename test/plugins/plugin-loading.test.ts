import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import { openApp } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { HsError } from '../../src/core/errors.ts'
import { loadPlugins } from '../../src/plugins/plugin-loader.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const EXAMPLE = resolve(import.meta.dirname, '..', '..', 'examples', 'plugins', 'word-count')

/** A plugin module's source: `export default <object literal>`. */
function pluginFile(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.mjs`)
  writeFileSync(file, body)
  return `./${name}.mjs`
}

const ACTION = (type: string, extra = '') =>
  `{ type: '${type}', description: 'does a thing', sideEffects: false, params: { type: 'object' }, execute: () => ({}) ${extra} }`

test('the example plugin through the real CLI: its action is in the catalogue and its workflow runs', async () => {
  const store = join(tempDir(), 'store.db')
  const config = join(EXAMPLE, 'homeostat.yaml')
  const listed = await runCli(['--config', config, '--store', store, 'actions'], EXAMPLE)
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stdout, /^words \(1\)$/m)
  assert.match(listed.stdout, /words\.count\s+read-only\s+Counts the words.*\[plugin:word-count\]/)
  assert.match(listed.stdout, /plugin\.execute\s+side effects, plan/)

  const json = await runCli(['--config', config, '--json', 'actions', 'show', 'words.count'], EXAMPLE)
  const entry = JSON.parse(json.stdout) as Record<string, any>
  assert.equal(entry.provider, 'plugin:word-count')
  assert.equal(entry.family, 'words')
  assert.deepEqual(entry.params.required, ['text'])
  assert.equal(entry.output.properties.top.type, 'array')

  const run = await runCli(
    ['--config', config, '--store', store, '--json', 'run', 'count-words', '--wait'],
    EXAMPLE,
  )
  assert.equal(run.code, 0, run.stderr)
  const result = JSON.parse(run.stdout) as { status: string; output: Record<string, unknown>; steps: any[] }
  assert.equal(result.status, 'succeeded')
  assert.deepEqual(result.output, { words: 11, same: true, summary: '11 words, 2 lines; mostly "the"' })
})

test('a plugin action with a broken schema stops start-up with a clear error naming plugin and action', async () => {
  const dir = tempDir()
  const spec = pluginFile(
    dir,
    'broken',
    `export default { name: 'broken', actions: [${ACTION('broken.thing').replace("params: { type: 'object' }", "params: { type: 'strnig' }")}] }`,
  )
  writeFileSync(join(dir, 'homeostat.yaml'), `store: data/s.db\nplugins: [${spec}]\n`)
  for (const args of [['actions'], ['validate', '.']]) {
    const out = await runCli(args, dir)
    assert.equal(out.code, 2, `${args.join(' ')}: ${out.stdout}`)
    assert.match(
      out.stderr,
      /plugin broken, action broken\.thing: `params` is not a valid JSON Schema: schema is invalid: data\/type/,
    )
    assert.match(out.stderr, /\[HS_ERR_PLUGIN_INVALID\] Fix the plugin named in the message/)
  }
})

test('a plugin action clashing with a built-in is refused through the CLI', async () => {
  const dir = tempDir()
  const spec = pluginFile(
    dir,
    'clash',
    `export default { name: 'clash', actions: [${ACTION('git.commit')}] }`,
  )
  writeFileSync(join(dir, 'homeostat.yaml'), `plugins: [${spec}]\n`)
  const out = await runCli(['--json', 'actions'], dir)
  assert.equal(out.code, 2)
  const error = (JSON.parse(out.stdout) as { error: { code: string; message: string } }).error
  assert.equal(error.code, 'HS_ERR_PLUGIN_INVALID')
  assert.match(
    error.message,
    /plugin clash: action git\.commit clashes with a built-in action of that type; give it another type \(e\.g\. clash\.commit\)/,
  )
})

/** plugin modules (name → source), the specs listed, and the expected error. */
const BROKEN: Array<[string, Record<string, string>, string[], RegExp]> = [
  [
    'no default export',
    { a: 'export const x = 1' },
    ['a'],
    /plugin \.\/a\.mjs: the default export must be definePlugin/,
  ],
  [
    'a name with a space',
    { a: "export default { name: 'my plugin' }" },
    ['a'],
    /name "my plugin" must be letters, digits/,
  ],
  [
    'two plugins with one name',
    { a: "export default { name: 'tools' }", b: "export default { name: 'tools' }" },
    ['a', 'b'],
    /plugin tools: the name is taken by another plugin listed before \.\/b\.mjs/,
  ],
  [
    'two plugins with one action type',
    {
      a: `export default { name: 'one', actions: [${ACTION('shared.act')}] }`,
      b: `export default { name: 'two', actions: [${ACTION('shared.act')}] }`,
    },
    ['a', 'b'],
    /plugin two: action shared\.act clashes with plugin one's action of that type/,
  ],
  [
    'an action listed twice',
    { a: `export default { name: 'p', actions: [${ACTION('p.x')}, ${ACTION('p.x')}] }` },
    ['a'],
    /plugin p: action p\.x is listed twice/,
  ],
  [
    'an action type that is not a dotted name',
    { a: `export default { name: 'p', actions: [${ACTION('p x')}] }` },
    ['a'],
    /actions\[0\]\.type must be a dotted name such as `p\.do_thing`, not "p x"/,
  ],
  [
    'an action without a description',
    {
      a: "export default { name: 'p', actions: [{ type: 'p.x', sideEffects: false, params: {}, execute() {} }] }",
    },
    ['a'],
    /plugin p, action p\.x: `description` must be a sentence/,
  ],
  [
    'an action without execute',
    {
      a: "export default { name: 'p', actions: [{ type: 'p.x', description: 'd', sideEffects: true, params: {} }] }",
    },
    ['a'],
    /plugin p, action p\.x: `execute\(params, ctx\)` must be a function/,
  ],
  [
    'sideEffects missing',
    {
      a: "export default { name: 'p', actions: [{ type: 'p.x', description: 'd', params: {}, execute() {} }] }",
    },
    ['a'],
    /`sideEffects` must be true/,
  ],
  [
    'a broken output schema',
    {
      a: `export default { name: 'p', actions: [${ACTION('p.x', ", output: { properties: { n: { minimum: 'one' } } }")}] }`,
    },
    ['a'],
    /plugin p, action p\.x: `output` is not a valid JSON Schema/,
  ],
  [
    'params that are not a schema object',
    {
      a: `export default { name: 'p', actions: [${ACTION('p.x').replace("params: { type: 'object' }", "params: 'object'")}] }`,
    },
    ['a'],
    /`params` must be a JSON Schema object/,
  ],
  [
    'a handler without methods',
    { a: "export default { name: 'p', handlers: { stats: { n: 1 } } }" },
    ['a'],
    /plugin p, handler stats: must be an object with at least one method/,
  ],
  [
    'a handler name with a dot',
    { a: "export default { name: 'p', handlers: { 'a.b': { f() {} } } }" },
    ['a'],
    /plugin p, handler a\.b: a handler name is letters, digits, _ and -/,
  ],
  [
    'two plugins with one handler',
    {
      a: "export default { name: 'one', handlers: { stats: { f() {} } } }",
      b: "export default { name: 'two', handlers: { stats: { g() {} } } }",
    },
    ['a', 'b'],
    /plugin two, handler stats: handler stats is also provided by plugin one; rename one/,
  ],
  [
    'a command that is not a function',
    { a: "export default { name: 'p', commands: { go: 42 } }" },
    ['a'],
    /plugin p, command go: must be a function \(args, ctx\) or \{ description, params, sideEffects, run \}/,
  ],
  [
    'a command with a broken params schema',
    { a: "export default { name: 'p', commands: { go: { params: { type: 'nope' }, run() {} } } }" },
    ['a'],
    /plugin p, command go: `params` is not a valid JSON Schema/,
  ],
  [
    'a module that throws',
    { a: "throw new Error('boom at import')" },
    ['a'],
    /plugin \.\/a\.mjs: cannot load: boom at import/,
  ],
  [
    'a module that does not exist',
    {},
    ['missing'],
    /plugin \.\/missing\.mjs: cannot load: Cannot find module/,
  ],
]

for (const [name, files, specs, message] of BROKEN) {
  test(`plugin refused: ${name}`, async () => {
    const dir = tempDir()
    for (const [file, source] of Object.entries(files)) pluginFile(dir, file, source)
    await assert.rejects(
      loadPlugins(
        specs.map((s) => `./${s}.mjs`),
        dir,
        builtinActions(),
      ),
      (err: Error) => {
        assert.ok(err instanceof HsError, err.message)
        assert.equal(err.code, 'HS_ERR_PLUGIN_INVALID')
        assert.match(err.message, message)
        return true
      },
    )
  })
}

test('a plugin handler may not take the name of a configured handler', async () => {
  const dir = tempDir()
  const spec = pluginFile(
    dir,
    'p',
    "export default { name: 'p', handlers: { recorder: { f() { return 1 } } } }",
  )
  writeFileSync(join(dir, 'rec.mjs'), 'export function g() { return 2 }\n')
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: data/s.db\nplugins: [${spec}]\nhandlers:\n  recorder: { module: ./rec.mjs }\n`,
  )
  const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
  try {
    await assert.rejects(
      app.handlers(),
      /handlers\.recorder: plugin p provides a handler of this name too; rename one/,
    )
  } finally {
    await app.close()
  }
})

test('plugin handlers join the handler registry beside configured ones', async () => {
  const dir = tempDir()
  const spec = pluginFile(
    dir,
    'p',
    "export default { name: 'p', handlers: { stats: { count(args, ctx) { return { n: args.items.length, key: ctx.idempotencyKey, handler: ctx.handler } }, _hidden() {} } } }",
  )
  writeFileSync(join(dir, 'rec.mjs'), 'export function g() { return 2 }\n')
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: data/s.db\nplugins: [${spec}]\nhandlers:\n  rec: { module: ./rec.mjs }\n`,
  )
  const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
  try {
    const handlers = await app.handlers()
    assert.deepEqual(handlers.describe(), [
      { name: 'rec', kind: 'module', methods: ['g'] },
      { name: 'stats', kind: 'module', methods: ['count'] },
    ])
    const result = await handlers.call(
      'stats.count',
      { items: [1, 2, 3] },
      {
        signal: new AbortController().signal,
        idempotencyKey: 'r:s:0',
      },
    )
    assert.deepEqual(result, { n: 3, key: 'r:s:0', handler: 'stats' })
    await assert.rejects(
      handlers.call('stats._hidden', {}, { signal: new AbortController().signal, idempotencyKey: 'k' }),
      /is not of the form handler\.method|has no method `_hidden`/,
    )
    assert.deepEqual(
      app.plugins.map((p) => p.name),
      ['p'],
    )
  } finally {
    await app.close()
  }
})
