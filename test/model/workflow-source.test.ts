import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { ActionRegistry } from '../../src/core/action.ts'
import { WORKFLOW_SCHEMA } from '../../src/core/workflow-schema.ts'
import {
  type Diagnostic,
  formatDiagnostic,
  parseWorkflowSource,
  validateWorkflowDoc,
} from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'

const actions = testActions()

function diagnose(text: string): Diagnostic[] {
  return parseWorkflowSource(text, 'w.yaml', actions).diagnostics
}

function at(d: Diagnostic | undefined): string {
  return d ? `${d.line}:${d.column}` : 'none'
}

void test('formatDiagnostic: file:line:column: message [code] (at pointer)', () => {
  const d: Diagnostic = {
    file: 'a.yaml',
    line: 3,
    column: 7,
    pointer: '/steps/0/uses',
    code: 'HS_ERR_ACTION_UNKNOWN',
    message: 'no such action',
  }
  assert.equal(formatDiagnostic(d), 'a.yaml:3:7: no such action [HS_ERR_ACTION_UNKNOWN] (at /steps/0/uses)')
  assert.equal(
    formatDiagnostic({ ...d, pointer: '' }),
    'a.yaml:3:7: no such action [HS_ERR_ACTION_UNKNOWN] (at /)',
  )
})

void test('JSON text is accepted, with positions', () => {
  const text = '{\n  "id": "j",\n  "steps": [\n    { "id": "a", "uses": "lgo" }\n  ]\n}\n'
  const [d] = diagnose(text)
  assert.equal(d?.code, 'HS_ERR_ACTION_UNKNOWN')
  assert.equal(at(d), '4:26')
  const ok = parseWorkflowSource('{"id": "j", "steps": [{"id": "a", "uses": "data.set"}]}', 'j.json', actions)
  assert.deepEqual(ok.workflows, [{ id: 'j', steps: [{ id: 'a', uses: 'data.set' }] }])
})

void test('several YAML documents in one stream are all read', () => {
  const r = parseWorkflowSource(
    'id: a\nsteps: [{id: s, uses: data.set}]\n---\nid: b\nsteps: [{id: s, uses: data.set}]\n',
    'w.yaml',
    actions,
  )
  assert.deepEqual(
    r.workflows.map((w) => w.id),
    ['a', 'b'],
  )
})

void test('diagnostics come sorted by position', () => {
  const ds = diagnose('id: Bad Id\nsteps:\n  - id: a\n    uses: nope\n  - id: a\n    uses: data.set\n')
  const positions = ds.map((d) => d.line * 1000 + d.column)
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
  )
  assert.equal(ds.length, 3)
})

void test('expression offsets land inside quoted, escaped and block scalars', () => {
  const single = diagnose(
    "id: x\nsteps:\n  - id: a\n    uses: data.set\n    if: 'inputs.name == ''x'' && && 1'\n",
  )
  assert.equal(at(single[0]), '5:34', formatDiagnostic(single[0]!))
  const double = diagnose(
    'id: x\nsteps:\n  - id: a\n    uses: data.set\n    if: "inputs.name == \\"q\\" && && 1"\n',
  )
  assert.equal(at(double[0]), '5:34', formatDiagnostic(double[0]!))
  const block = diagnose(
    'id: x\nsteps:\n  - id: a\n    uses: log\n    with:\n      message: |\n        line one\n        total {{ 1 + }} items\n',
  )
  assert.equal(at(block[0]), '8:21', formatDiagnostic(block[0]!))
  assert.equal(block[0]!.code, 'HS_ERR_EXPR_PARSE')
})

void test('templated parameters are dynamic: not type-checked against the action schema', () => {
  const text =
    'id: x\nsteps:\n  - id: a\n    uses: log\n    with: { message: "{{ 42 }}", level: "{{ inputs.level }}" }\n'
  assert.deepEqual(diagnose(text).map(formatDiagnostic), [])
})

void test('long-form parameter problems point into `action.parameters` as written', () => {
  const text =
    'name: Long\nsteps:\n  - name: Say It\n    action:\n      type: log\n      parameters:\n        message: 5\n'
  const [d] = diagnose(text)
  assert.equal(d?.code, 'HS_ERR_ACTION_PARAMS')
  assert.equal(d?.pointer, '/steps/0/action/parameters/message')
  assert.equal(at(d), '7:18')
  assert.match(d!.message, /step `say_it`: `with.message` must be a string \(got number 5\)/)
})

void test('shorthands: `needs: a` and `{step: a, when: success}` become `[a]`', () => {
  const r = parseWorkflowSource(
    'id: x\nsteps:\n  - {id: a, uses: data.set}\n  - {id: b, uses: data.set, needs: a}\n  - {id: c, uses: data.set, needs: [{step: b, when: success}]}\n',
    'w.yaml',
    actions,
  )
  assert.deepEqual(
    r.workflows[0]!.steps.map((s) => s.needs),
    [undefined, ['a'], ['b']],
  )
})

void test('a file over 1 MiB is refused with one diagnostic', () => {
  const text = `id: big\nsteps: [{id: a, uses: data.set}]\n# ${'x'.repeat(1024 * 1024)}\n`
  const ds = diagnose(text)
  assert.equal(ds.length, 1)
  assert.match(ds[0]!.message, /limit for a workflow file is 1048576 bytes/)
})

void test('pathological YAML is reported, not crashed on', () => {
  const deepFlow = `id: x\nsteps: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`
  assert.ok(diagnose(deepFlow).length > 0)
  const deepMap = `id: x\nsteps:\n  - id: a\n    uses: data.set\n    with: { d: ${'{a: '.repeat(100)}1${'}'.repeat(100)} }\n`
  assert.match(diagnose(deepMap)[0]!.message, /nesting deeper than 64 levels/)
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
  for (let i = 1; i < 9; i++)
    bomb.push(
      `l${i}: &l${i} [${Array(10)
        .fill(i === 1 ? '*a' : `*l${i - 1}`)
        .join(', ')}]`,
    )
  const ds = diagnose(`id: x\nsteps: [{id: s, uses: data.set}]\nvariables:\n  ${bomb.join('\n  ')}\n`)
  assert.ok(ds.some((d) => /aliases expand to more than/.test(d.message)))
})

void test('`__proto__` keys are data, never a prototype', () => {
  const r = parseWorkflowSource(
    'id: x\nsteps:\n  - id: a\n    uses: data.set\n    with: { __proto__: { polluted: 1 } }\n',
    'w.yaml',
    actions,
  )
  const params = r.workflows[0]!.steps[0]!.with!
  assert.equal(Object.getPrototypeOf(params), Object.prototype)
  assert.deepEqual(Object.keys(params), ['__proto__'])
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

void test('validateWorkflowDoc: canonical or long form from the API, pointers set, positions 0', () => {
  const ok = validateWorkflowDoc(
    { name: 'From API', steps: [{ name: 'Only', action: { type: 'data.set' } }] },
    actions,
  )
  assert.deepEqual(ok.diagnostics, [])
  assert.deepEqual(ok.workflow, {
    id: 'from_api',
    name: 'From API',
    steps: [{ id: 'only', name: 'Only', uses: 'data.set' }],
  })

  const bad = validateWorkflowDoc(
    {
      id: 'x',
      steps: [
        { id: 'a', uses: 'log', with: { message: 1 } },
        { id: 'b', uses: 'data.set', needs: ['zz'] },
      ],
    },
    actions,
    'api',
  )
  assert.equal(bad.workflow, undefined)
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.file, d.line, d.column, d.pointer, d.code]),
    [
      ['api', 0, 0, '/steps/0/with/message', 'HS_ERR_ACTION_PARAMS'],
      ['api', 0, 0, '/steps/1/needs/0', 'HS_ERR_WORKFLOW_INVALID'],
    ],
  )
})

void test('validateWorkflowDoc: cycles in the object and deep nesting are reported, not crashed on', () => {
  const cyclic: Record<string, unknown> = { id: 'x', steps: [] }
  ;(cyclic.steps as unknown[]).push({ id: 'a', uses: 'data.set', with: { self: cyclic } })
  assert.match(validateWorkflowDoc(cyclic, actions).diagnostics[0]!.message, /refers to itself/)
  let deep: unknown = 1
  for (let i = 0; i < 10_000; i++) deep = { a: deep }
  assert.match(
    validateWorkflowDoc({ id: 'x', steps: [{ id: 'a', uses: 'data.set', with: deep }] }, actions)
      .diagnostics[0]!.message,
    /nesting deeper than 64/,
  )
  assert.match(validateWorkflowDoc('nope', actions).diagnostics[0]!.message, /a workflow must be a mapping/)
})

void test('an action whose parameter schema does not compile is reported, not thrown', () => {
  const registry = new ActionRegistry().register({
    type: 'broken.schema',
    description: 'bad schema',
    params: { type: 'object', properties: { a: { type: 'no-such-type' } } },
    sideEffects: false,
    execute: () => null,
  })
  const ds = parseWorkflowSource(
    'id: x\nsteps: [{id: a, uses: broken.schema}]\n',
    'w.yaml',
    registry,
  ).diagnostics
  assert.equal(ds[0]?.code, 'HS_ERR_ACTION_PARAMS')
  assert.match(ds[0]!.message, /invalid parameter schema/)
})

void test('a registry is validated through one cached validator per action (same result twice)', () => {
  const text = 'id: x\nsteps: [{id: a, uses: log, with: {level: loud}}]\n'
  assert.deepEqual(diagnose(text), diagnose(text))
  assert.equal(diagnose(text).length, 2)
})

void test('long-form parameters merge: config, then action.parameters, then with, whatever the key order', () => {
  const text =
    'name: Merge\nsteps:\n  - name: One\n    with: { a: 1 }\n    action: { type: data.set, parameters: { a: 2, b: 2 } }\n    config: { a: 3, b: 3, c: 3 }\n'
  const r = parseWorkflowSource(text, 'w.yaml', actions)
  assert.deepEqual(r.diagnostics, [])
  assert.deepEqual(r.workflows[0]!.steps[0]!.with, { c: 3, b: 2, a: 1 })
})

void test('WORKFLOW_SCHEMA compiles under Ajv strict mode', () => {
  assert.doesNotThrow(() => new Ajv({ strict: true, allowUnionTypes: true }).compile(WORKFLOW_SCHEMA))
})

void test('the workflow id `actions` is refused at its position: GET /api/workflows/actions is the action catalogue', () => {
  const [d, ...rest] = diagnose('name: A\nid: actions\nsteps: [{id: s, uses: data.set}]\n')
  assert.equal(rest.length, 0)
  assert.equal(d?.pointer, '/id')
  assert.equal(at(d), '2:5')
  assert.match(d.message, /workflow id `actions` is reserved/)
  assert.equal(diagnose('id: actions_daily\nsteps: [{id: s, uses: data.set}]\n').length, 0)
})
