import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_ACTION_SERVICES } from '../../../src/actions/action-services.ts'
import { builtinActions } from '../../../src/actions/builtin-actions.ts'
import { fileActions } from '../../../src/actions/file-actions.ts'
import { gitActions } from '../../../src/actions/git-actions.ts'
import { shellActions } from '../../../src/actions/shell-actions.ts'
import { newAjv } from '../../../src/core/ajv-messages.ts'

const ACTIONS = [
  ...fileActions(DEFAULT_ACTION_SERVICES),
  ...shellActions(DEFAULT_ACTION_SERVICES),
  ...gitActions(DEFAULT_ACTION_SERVICES),
]
const READ_ONLY = new Set(['file.read', 'file.list', 'git.status', 'git.log', 'git.diff'])
const EXPECTED = [
  'file.append',
  'file.copy',
  'file.delete',
  'file.list',
  'file.move',
  'file.read',
  'file.write',
  'git.add',
  'git.branch',
  'git.checkout',
  'git.commit',
  'git.diff',
  'git.log',
  'git.merge',
  'git.pull',
  'git.push',
  'git.status',
  'shell.exec',
]

/** Properties (also inside array items and oneOf branches) without a description, as JSON pointers. */
function undescribed(schema: unknown, at = ''): string[] {
  if (!schema || typeof schema !== 'object') return []
  const s = schema as { properties?: Record<string, Record<string, unknown>>; items?: unknown }
  const own = Object.entries(s.properties ?? {}).flatMap(([name, prop]) => [
    ...(typeof prop.description === 'string' && prop.description !== '' ? [] : [`${at}/${name}`]),
    ...undescribed(prop, `${at}/${name}`),
  ])
  return [...own, ...undescribed(s.items, `${at}/items`)]
}

test('every file, shell and git action is in the built-in catalogue', () => {
  assert.deepEqual(ACTIONS.map((a) => a.type).sort(), EXPECTED)
  const registered = builtinActions()
    .list()
    .map((a) => a.type)
  for (const type of EXPECTED) assert.ok(registered.includes(type), type)
})

for (const action of ACTIONS) {
  test(`${action.type}: strict-valid schemas, closed params, every property described, plan when it has side effects`, () => {
    const ajv = newAjv({ strict: true })
    ajv.compile(action.params)
    ajv.compile(action.output!)
    assert.equal((action.params as { additionalProperties?: unknown }).additionalProperties, false)
    assert.deepEqual(undescribed(action.params), [])
    assert.deepEqual(undescribed(action.output), [])
    assert.ok(action.description.length > 10)
    assert.equal(action.sideEffects, !READ_ONLY.has(action.type))
    if (action.sideEffects) assert.equal(typeof action.plan, 'function')
  })
}

test('schemas reject unknown parameters and wrong types the way the engine checks them', () => {
  const ajv = newAjv({ strict: false })
  const byType = Object.fromEntries(ACTIONS.map((a) => [a.type, a]))
  const write = ajv.compile(byType['file.write']!.params)
  assert.equal(write({ path: 'a', content: 'b', recursive: true }), false)
  assert.equal(write({ path: 'a', content: 'b', encoding: 'hex' }), false)
  assert.equal(write({ path: 'a', content: 'b' }), true)
  const exec = ajv.compile(byType['shell.exec']!.params)
  assert.equal(exec({ command: 'ls', args: 'not a list' }), false)
  assert.equal(exec({ command: 'ls', env: { 'BAD NAME': 'x' } }), false)
  assert.equal(exec({ command: 'ls', timeout: '30s', ok_exit_codes: [1] }), true)
})
