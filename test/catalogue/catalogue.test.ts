import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import { openApp } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { startServer } from '../../src/cli/serve-command.ts'
import { actionFamily, describeActions, type ActionCatalogue } from '../../src/core/action-catalogue.ts'
import type { JsonSchema } from '../../src/core/workflow.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

const EXAMPLE_PLUGIN = resolve(
  import.meta.dirname,
  '..',
  '..',
  'examples',
  'plugins',
  'word-count',
  'index.ts',
)
const HELLO = resolve(import.meta.dirname, '..', '..', 'examples', 'workflows')

/** A project with the example workflows and the example plugin. */
function project(): string {
  const dir = tempDir('homeostat-catalogue-')
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: data/s.db\nworkflows: [${JSON.stringify(HELLO)}]\nplugins: [${JSON.stringify(EXAMPLE_PLUGIN)}]\n`,
  )
  return dir
}

test('actionFamily and describeActions group by the part before the first dot', () => {
  assert.equal(actionFamily('git.commit'), 'git')
  assert.equal(actionFamily('log'), 'log')
  assert.equal(actionFamily('a.b.c'), 'a')
  const registry = builtinActions()
  const catalogue = describeActions(registry, new Map([['data.set', 'pretend']]))
  assert.equal(catalogue.count, registry.list().length)
  const families = catalogue.families.map((f) => f.family)
  assert.deepEqual(families, [...families].sort())
  for (const f of catalogue.families) {
    assert.ok(f.actions.every((a) => a.family === f.family))
    const types = f.actions.map((a) => a.type)
    assert.deepEqual(types, [...types].sort())
  }
  const all = catalogue.families.flatMap((f) => f.actions)
  assert.equal(all.find((a) => a.type === 'data.set')!.provider, 'plugin:pretend')
  assert.equal(all.find((a) => a.type === 'data.filter')!.provider, 'builtin')
  const send = all.find((a) => a.type === 'chat.send')!
  assert.deepEqual([send.sideEffects, send.plan], [true, true])
  const transform = all.find((a) => a.type === 'data.transform')!
  assert.deepEqual([transform.sideEffects, transform.plan], [false, false])
})

test('homeostat actions lists every registered action by family, plugins included', async () => {
  const dir = project()
  const text = await runCli(['actions'], dir)
  assert.equal(text.code, 0, text.stderr)
  const json = await runCli(['--json', 'actions'], dir)
  const catalogue = JSON.parse(json.stdout) as ActionCatalogue
  const types = catalogue.families.flatMap((f) => f.actions.map((a) => a.type))
  for (const a of builtinActions().list()) {
    assert.ok(types.includes(a.type), `${a.type} listed`)
    assert.match(text.stdout, new RegExp(`^  ${a.type.replace('.', '\\.')}\\s`, 'm'))
  }
  assert.ok(types.includes('words.count'))
  for (const { family, actions } of catalogue.families)
    assert.match(text.stdout, new RegExp(`^${family} \\(${actions.length}\\)$`, 'm'))
  assert.match(text.stdout, new RegExp(`^${catalogue.count} actions; `, 'm'))
  assert.match(text.stdout, /^ {2}data\.transform\s+read-only\s+Evaluates a JSONata expression/m)
  assert.match(text.stdout, /^ {2}chat\.send\s+side effects, plan\s+Posts a message/m)
})

test('homeostat actions show prints schemas as YAML, or JSON with --json; an unknown type suggests one', async () => {
  const dir = project()
  const shown = await runCli(['actions', 'show', 'git.commit'], dir)
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /^git\.commit — /)
  assert.match(shown.stdout, /family git · side effects · a dry run shows its plan · provider builtin/)
  assert.match(shown.stdout, /^parameters \(with:\)\n {2}type: object\n/m)
  assert.match(shown.stdout, /^output \(steps\.<id>\.output\)$/m)
  const json = await runCli(['--json', 'actions', 'show', 'data.aggregate'], dir)
  const entry = JSON.parse(json.stdout) as { type: string; params: JsonSchema; output: JsonSchema }
  assert.equal(entry.type, 'data.aggregate')
  assert.deepEqual(entry.params, builtinActions().get('data.aggregate')!.params)
  assert.deepEqual(entry.output, builtinActions().get('data.aggregate')!.output)

  const unknown = await runCli(['actions', 'show', 'git.comit'], dir)
  assert.equal(unknown.code, 2)
  assert.match(
    unknown.stderr,
    /no action `git\.comit`; did you mean `git\.commit`\? `homeostat actions` lists the \d+ registered actions\./,
  )
  assert.match(unknown.stderr, /\[HS_ERR_ACTION_UNKNOWN\]/)
})

test('GET /api/workflows/actions returns the catalogue the CLI prints; /api/workflows/:id still works', async () => {
  const dir = project()
  const cli = JSON.parse((await runCli(['--json', 'actions'], dir)).stdout) as ActionCatalogue
  const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
  const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
  try {
    const res = await fetch(`${server.url}/api/workflows/actions`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), cli)
    const hello = await fetch(`${server.url}/api/workflows/hello`)
    assert.equal(hello.status, 200)
    assert.equal(((await hello.json()) as { id: string }).id, 'hello')
    const missing = await fetch(`${server.url}/api/workflows/nope`)
    assert.equal(missing.status, 404)
  } finally {
    await server.stop()
    await app.close()
  }
})

/** Every property of a schema (nested objects and array items too) says what it is. */
function undescribed(schema: unknown, at = ''): string[] {
  if (typeof schema !== 'object' || schema === null) return []
  const s = schema as Record<string, unknown>
  const out: string[] = []
  for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    if (
      typeof prop === 'object' &&
      prop !== null &&
      typeof (prop as { description?: unknown }).description !== 'string'
    )
      out.push(`${at}/${name}`)
    out.push(...undescribed(prop, `${at}/${name}`))
  }
  if (typeof s.items === 'object') out.push(...undescribed(s.items, `${at}[]`))
  if (typeof s.additionalProperties === 'object') out.push(...undescribed(s.additionalProperties, `${at}/*`))
  return out
}

test('the data, chat and plugin actions describe every parameter and refuse unknown ones', () => {
  const registry = builtinActions()
  for (const type of ['data.transform', 'data.filter', 'data.aggregate', 'chat.send', 'plugin.execute']) {
    const action = registry.get(type)!
    assert.deepEqual(undescribed(action.params), [], `${type} params`)
    assert.equal((action.params as { additionalProperties?: unknown }).additionalProperties, false, type)
    assert.deepEqual(undescribed(action.output), [], `${type} output`)
  }
})
