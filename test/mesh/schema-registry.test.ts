import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { SchemaRegistry, type SchemaProblem } from '../../src/mesh/schema-registry.ts'
import { tempDir } from '../helpers/tmp.ts'

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'schemas')
const fixture = (...parts: string[]): string => join(FIXTURES, ...parts)
const where = (p: SchemaProblem): string => `${p.file.slice(FIXTURES.length + 1)}:${p.line}:${p.column}`

void test('one file holds many types; every violation comes at once, with pointers into the event', async () => {
  const { registry, problems } = await SchemaRegistry.load([fixture('multi', 'event_schemas.yaml')])
  assert.deepEqual(problems, [])
  assert.deepEqual(
    registry.types().map((t) => [t.type, t.description]),
    [
      ['kpi.threshold_breach', 'A KPI crossed its threshold'],
      ['system.critical_error', undefined],
      ['test_quality.healing_required', "A component's test quality fell below its threshold"],
    ],
  )
  assert.equal(registry.types()[0]!.file, fixture('multi', 'event_schemas.yaml'))
  assert.ok(registry.has('kpi.threshold_breach'))
  assert.ok(!registry.has('kpi'))

  const type = 'test_quality.healing_required'
  assert.deepEqual(registry.validate(type, { component_id: 'ingress', status: 'CRITICAL', score: 45 }), [])
  assert.deepEqual(
    registry.validate(type, {
      status: 'BAD',
      score: 120,
      extra: 1,
      detected_at: 'soon',
      tags: ['a', 'b', 'c', 4],
    }),
    [
      { pointer: '/data/component_id', message: '/data/component_id is required' },
      { pointer: '/data/extra', message: '/data/extra is not allowed here' },
      {
        pointer: '/data/status',
        message: '/data/status must be one of "CRITICAL", "DEGRADED", "WARNING" (got "BAD")',
      },
      { pointer: '/data/score', message: '/data/score must be <= 100 (got 120)' },
      { pointer: '/data/detected_at', message: '/data/detected_at must be a valid date-time (got "soon")' },
      { pointer: '/data/tags', message: '/data/tags must have at most 3 items' },
      { pointer: '/data/tags/3', message: '/data/tags/3 must be a string (got 4)' },
    ],
  )
  assert.deepEqual(registry.validate(type, undefined), [
    { pointer: '/data', message: '/data must be an object (got nothing)' },
  ])
  assert.deepEqual(
    registry.validate('kpi.threshold_breach', {
      metric_name: '',
      value: '1',
      threshold: 2,
      severity: 'CRITICAL',
    }),
    [
      {
        pointer: '/data/metric_name',
        message: '/data/metric_name must be at least 1 characters long (got "")',
      },
      { pointer: '/data/value', message: '/data/value must be a number (got "1")' },
    ],
  )
  assert.deepEqual(
    registry.validate('system.critical_error', 'anything'),
    [],
    '`data: true` accepts anything',
  )
})

void test('unknown types are accepted or rejected, as configured', async () => {
  const { registry } = await SchemaRegistry.load([fixture('multi')])
  assert.deepEqual(registry.validate('no.such_type', { x: 1 }), [])
  assert.deepEqual(registry.check('no.such_type', { x: 1 }, 'accept'), [])
  assert.deepEqual(registry.check('no.such_type', { x: 1 }, 'reject'), [
    {
      pointer: '/type',
      message: '/type: no schema is registered for event type `no.such_type`, and unknown types are rejected',
    },
  ])
  assert.equal(registry.check('kpi.threshold_breach', {}, 'reject').length, 4)
})

void test('directories are read recursively: YAML and JSON files, other files ignored', async () => {
  const { registry, problems } = await SchemaRegistry.load([fixture('two')])
  assert.deepEqual(problems, [])
  assert.deepEqual(
    registry.types().map((t) => [t.type, t.file]),
    [
      ['db.table_updated', fixture('two', 'a.yaml')],
      ['trust.degradation_detected', fixture('two', 'nested', 'b.json')],
    ],
  )
  assert.deepEqual(registry.validate('trust.degradation_detected', { component_id: 'a', trust_score: 2 }), [
    { pointer: '/data/trust_score', message: '/data/trust_score must be <= 1 (got 2)' },
  ])
})

void test('a type defined twice is a problem at the second definition; the first is kept', async () => {
  const { registry, problems } = await SchemaRegistry.load([fixture('dup')])
  assert.deepEqual(
    problems.map((p) => [where(p), p.pointer]),
    [['dup/two.yaml:2:3', '/event_types/kpi.threshold_breach']],
  )
  assert.match(
    problems[0]!.message,
    /event type `kpi.threshold_breach` is already defined in .*dup\/one\.yaml; this definition is ignored/,
  )
  assert.deepEqual(
    registry.validate('kpi.threshold_breach', {}),
    [],
    'the first definition (no required keys) holds',
  )
  assert.deepEqual(
    registry.types().map((t) => t.type),
    ['healing.recovery_complete', 'kpi.threshold_breach', 'trust.degradation_detected'],
  )
})

void test('bad entries and schemas are problems at their positions; the other types still load', async () => {
  const { registry, problems } = await SchemaRegistry.load([fixture('bad')])
  assert.deepEqual(
    problems.map((p) => [where(p), p.pointer]),
    [
      ['bad/bad.yaml:20:3', '/event_types/good.type'],
      ['bad/bad.yaml:22:1', '/extra'],
      ['bad/bad.yaml:9:18', '/event_types/bad.keyword/data/properties/score/type'],
      ['bad/bad.yaml:11:5', '/event_types/bad.ref/data'],
      ['bad/bad.yaml:13:3', '/event_types/Bad Type'],
      ['bad/bad.yaml:15:3', '/event_types/no.data'],
      ['bad/bad.yaml:18:5', '/event_types/typo.key/dta'],
      ['bad/broken.yaml:3:11', ''],
    ],
  )
  const messages = problems.map((p) => p.message)
  assert.match(messages[0]!, /duplicate key `good.type`/)
  assert.match(messages[1]!, /unknown key `extra` in the schema file/)
  assert.equal(
    messages[2],
    'schema of `bad.keyword`: `properties.score.type` must be equal to one of the allowed values: array, boolean, integer, null, number, object, string',
  )
  assert.match(
    messages[3]!,
    /schema of `bad.ref` does not compile: can't resolve reference #\/definitions\/missing/,
  )
  assert.match(messages[4]!, /`Bad Type` is not an event type/)
  assert.match(messages[5]!, /event type `no.data` needs `data`/)
  assert.match(messages[6]!, /unknown key `dta` in event type `typo.key`; did you mean `data`\?/)
  assert.match(messages[7]!, /YAML syntax error/)
  assert.deepEqual(
    registry.types().map((t) => t.type),
    ['good.type', 'typo.key'],
  )
  assert.deepEqual(registry.validate('good.type', {}), [
    { pointer: '/data/id', message: '/data/id is required' },
  ])
})

void test('draft-07 by default, draft 2020-12 when the schema says so', async () => {
  const { registry, problems } = await SchemaRegistry.load([fixture('drafts')])
  assert.deepEqual(problems, [])
  assert.deepEqual(registry.validate('draft.2020', ['a', 1]), [])
  assert.deepEqual(registry.validate('draft.2020', ['a', 'b', 2]), [
    { pointer: '/data/1', message: '/data/1 must be a number (got "b")' },
    { pointer: '/data', message: '/data must have at most 2 items' },
  ])
  assert.deepEqual(registry.validate('draft.07', ['a', 1]), [])
  assert.deepEqual(registry.validate('draft.07', ['a', 1, 2]), [
    { pointer: '/data', message: '/data must have at most 2 items' },
  ])
})

void test('missing paths and files that are not a schema document are reported', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n')
  writeFileSync(join(dir, 'types.yaml'), 'event_types: [a, b]\n')
  writeFileSync(join(dir, 'empty.yaml'), '# nothing yet\n')
  const { registry, problems } = await SchemaRegistry.load([dir, join(dir, 'absent')])
  assert.deepEqual(
    problems.map((p) => [p.file.slice(dir.length + 1), p.line, p.column, p.pointer]),
    [
      ['list.yaml', 1, 1, ''],
      ['types.yaml', 1, 1, '/event_types'],
      ['absent', 0, 0, ''],
    ],
  )
  assert.match(problems[0]!.message, /a schema file is a mapping with `event_types/)
  assert.match(problems[2]!.message, /cannot read .*absent/)
  assert.deepEqual(registry.types(), [])
})

void test('fromMap compiles schemas given in code, and refuses one that does not compile', () => {
  const registry = SchemaRegistry.fromMap({
    'a.b': { description: 'A', data: { type: 'object', required: ['x'] } },
  })
  assert.deepEqual(registry.types(), [{ type: 'a.b', description: 'A' }])
  assert.deepEqual(registry.validate('a.b', { y: 1 }), [
    { pointer: '/data/x', message: '/data/x is required' },
  ])
  assert.throws(
    () => SchemaRegistry.fromMap({ 'a.b': { data: { type: 'numbr' } } }),
    /schema of `a.b`: `type` must be equal to one of the allowed values/,
  )
})

void test('keys with / and ~ are escaped in pointers', () => {
  const registry = SchemaRegistry.fromMap({
    'a.b': { data: { type: 'object', required: ['a/b', 'c~d'], additionalProperties: false } },
  })
  assert.deepEqual(
    registry.validate('a.b', { 'e/f': 1 }).map((v) => v.pointer),
    ['/data/a~1b', '/data/c~0d', '/data/e~1f'],
  )
})
