import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { dataAggregate, dataFilter, valueAt } from '../../../src/actions/data-actions.ts'
import { builtinActions } from '../../../src/actions/builtin-actions.ts'
import { NonRetryableError } from '../../../src/core/errors.ts'
import { runAction } from '../../helpers/action-context.ts'

const ALERTS = [
  { id: 1, severity: 'CRITICAL', score: 12, service: { name: 'api', team: 'core' }, tags: ['db'] },
  { id: 2, severity: 'WARNING', score: 55, service: { name: 'web', team: 'edge' }, tags: [] },
  { id: 3, severity: 'CRITICAL', score: 40, service: { name: 'api', team: 'core' }, tags: ['net'] },
  { id: 4, severity: 'INFO', score: 90, service: { name: 'batch', team: 'core' } },
  { id: 5, severity: 'WARNING', score: 70, service: { name: 'web', team: 'edge' }, tags: ['db', 'net'] },
]

/** condition, extra params, expected ids kept. */
const FILTERS: Array<[string, Record<string, unknown>, number[]]> = [
  ['item.severity == "CRITICAL"', {}, [1, 3]],
  ['item.score > 50', {}, [2, 4, 5]],
  ['item.score >= 40 && item.score <= 70', {}, [2, 3, 5]],
  ['index < 2', {}, [1, 2]],
  ['index % 2 == 0', {}, [1, 3, 5]],
  ['has(item.tags) && "db" in item.tags', {}, [1, 5]],
  ['!has(item.tags)', {}, [4]],
  ['item.service.team == "core" && item.severity != "INFO"', {}, [1, 3]],
  ['item.service.name.startsWith("w")', {}, [2, 5]],
  ['item.severity in ["CRITICAL", "WARNING"]', { limit: 2 }, [1, 2]],
  ['has(item.tags) && size(item.tags) > 1', {}, [5]],
  ['item.?tags.orValue([]).exists(t, t == "net")', {}, [3, 5]],
  ['item.id == 42', {}, []],
  ['true', {}, [1, 2, 3, 4, 5]],
  ['false', {}, []],
]

for (const [condition, extra, ids] of FILTERS) {
  test(`data.filter ${condition}${extra.limit ? ` (limit ${JSON.stringify(extra.limit)})` : ''}`, async () => {
    const out = (await runAction(dataFilter, { items: ALERTS, condition, ...extra })) as {
      items: Array<{ id: number }>
      count: number
      total: number
    }
    assert.deepEqual(
      out.items.map((i) => i.id),
      ids,
    )
    assert.equal(out.count, ids.length)
    assert.equal(out.total, ALERTS.length)
  })
}

test('data.filter over scalars', async () => {
  const out = await runAction(dataFilter, { items: [3, 8, 1, 12], condition: 'item > 2' })
  assert.deepEqual(out, { items: [3, 8, 12], count: 3, total: 4 })
})

/** condition, message: errors name the item and are not retried. */
const FILTER_ERRORS: Array<[string, RegExp]> = [
  ['item.score >', /condition: unexpected token.*at offset 12/],
  ['item.score', /condition gave 12 for item 0, not true or false/],
  ['item.missing == 1', /condition failed on item 0: no such key: missing/],
  ['item.tags.size() > 0', /condition failed on item 3/],
]
for (const [condition, message] of FILTER_ERRORS) {
  test(`data.filter error: ${condition}`, async () => {
    await assert.rejects(runAction(dataFilter, { items: ALERTS, condition }), (err: Error) => {
      assert.ok(err instanceof NonRetryableError)
      assert.match(err.message, message)
      return true
    })
  })
}

const ORDERS = [
  { id: 'o1', region: 'EU', status: 'paid', total: 100, customer: { tier: 'gold' }, lines: [{ sku: 'A' }] },
  { id: 'o2', region: 'US', status: 'paid', total: 50, customer: { tier: 'silver' }, lines: [{ sku: 'B' }] },
  { id: 'o3', region: 'EU', status: 'open', total: 25, customer: { tier: 'gold' }, lines: [{ sku: 'A' }] },
  { id: 'o4', region: 'EU', status: 'paid', total: 75, customer: { tier: 'silver' }, lines: [] },
  { id: 'o5', region: null, status: 'paid', customer: {}, lines: [{ sku: 'C' }] },
]

/** params (without items), expected groups. */
const AGGREGATES: Array<[string, Record<string, unknown>, unknown[]]> = [
  ['count only, one group', {}, [{ key: {}, count: 5 }]],
  [
    'sum and avg by region',
    {
      group_by: 'region',
      metrics: { revenue: { op: 'sum', field: 'total' }, mean: { op: 'avg', field: 'total' } },
    },
    [
      { key: { region: 'EU' }, count: 3, revenue: 200, mean: 200 / 3 },
      { key: { region: 'US' }, count: 1, revenue: 50, mean: 50 },
      { key: { region: null }, count: 1, revenue: 0, mean: null },
    ],
  ],
  [
    'min/max/collect by two keys',
    {
      group_by: ['region', 'status'],
      metrics: {
        low: { op: 'min', field: 'total' },
        high: { op: 'max', field: 'total' },
        ids: { op: 'collect', field: 'id' },
      },
    },
    [
      { key: { region: 'EU', status: 'paid' }, count: 2, low: 75, high: 100, ids: ['o1', 'o4'] },
      { key: { region: 'US', status: 'paid' }, count: 1, low: 50, high: 50, ids: ['o2'] },
      { key: { region: 'EU', status: 'open' }, count: 1, low: 25, high: 25, ids: ['o3'] },
      { key: { region: null, status: 'paid' }, count: 1, low: null, high: null, ids: ['o5'] },
    ],
  ],
  [
    'dotted path group and count of a field',
    { group_by: 'customer.tier', metrics: { with_total: { op: 'count', field: 'total' } } },
    [
      { key: { 'customer.tier': 'gold' }, count: 2, with_total: 2 },
      { key: { 'customer.tier': 'silver' }, count: 2, with_total: 2 },
      { key: { 'customer.tier': null }, count: 1, with_total: 0 },
    ],
  ],
  [
    'array index in a path',
    { group_by: 'lines.0.sku', metrics: { orders: { op: 'collect', field: 'id' } } },
    [
      { key: { 'lines.0.sku': 'A' }, count: 2, orders: ['o1', 'o3'] },
      { key: { 'lines.0.sku': 'B' }, count: 1, orders: ['o2'] },
      { key: { 'lines.0.sku': null }, count: 1, orders: ['o4'] },
      { key: { 'lines.0.sku': 'C' }, count: 1, orders: ['o5'] },
    ],
  ],
  [
    'min and max of strings',
    { metrics: { first: { op: 'min', field: 'id' }, last: { op: 'max', field: 'id' } } },
    [{ key: {}, count: 5, first: 'o1', last: 'o5' }],
  ],
  [
    'inherited properties are not paths',
    { group_by: 'constructor' },
    [{ key: { constructor: null }, count: 5 }],
  ],
]

for (const [name, params, groups] of AGGREGATES) {
  test(`data.aggregate ${name}`, async () => {
    const out = await runAction(dataAggregate, { items: ORDERS, ...params })
    assert.deepEqual(out, { groups, total: ORDERS.length })
  })
}

test('data.aggregate of no items has no groups', async () => {
  assert.deepEqual(await runAction(dataAggregate, { items: [], group_by: 'x' }), { groups: [], total: 0 })
})

const AGGREGATE_ERRORS: Array<[Record<string, unknown>, RegExp]> = [
  [
    { metrics: { s: { op: 'sum', field: 'id' } } },
    /metrics\.s: sum of `id` needs numbers, but a value is "o1"/,
  ],
  [
    { items: [{ v: 1 }, { v: 'a' }], metrics: { m: { op: 'max', field: 'v' } } },
    /metrics\.m: max of `v` needs all numbers or all strings, but a value is "a"/,
  ],
  [{ metrics: { s: { op: 'avg' } } }, /metrics\.s: `avg` needs a `field`/],
  [{ metrics: { c: { op: 'min', field: 'customer' } } }, /needs all numbers or all strings/],
]
for (const [params, message] of AGGREGATE_ERRORS) {
  test(`data.aggregate error: ${message.source.slice(0, 40)}`, async () => {
    await assert.rejects(runAction(dataAggregate, { items: ORDERS, ...params }), (err: Error) => {
      assert.ok(err instanceof NonRetryableError)
      assert.match(err.message, message)
      return true
    })
  })
}

test('valueAt reads own properties and array indexes only', () => {
  const value = { a: { b: [{ c: 1 }] } }
  assert.equal(valueAt(value, 'a.b.0.c'), 1)
  assert.equal(valueAt(value, 'a.b.x'), undefined)
  assert.equal(valueAt(value, 'a.__proto__'), undefined)
  assert.equal(valueAt(value, 'a.toString'), undefined)
  assert.equal(valueAt('text', 'length'), undefined)
})

test('data action schemas compile in Ajv strict mode and refuse bad params', () => {
  const ajv = new Ajv({ strict: true, allErrors: true })
  const registry = builtinActions()
  for (const type of ['data.set', 'data.transform', 'data.filter', 'data.aggregate']) {
    const action = registry.get(type)!
    assert.equal(action.sideEffects, false, type)
    ajv.compile(action.params)
    ajv.compile(action.output!)
  }
  const filter = ajv.compile(registry.get('data.filter')!.params)
  assert.equal(filter({ items: [], condition: 'true', extra: 1 }), false)
  const aggregate = ajv.compile(registry.get('data.aggregate')!.params)
  assert.equal(
    aggregate({ items: [], metrics: { count: { op: 'sum', field: 'x' } } }),
    false,
    'count is reserved',
  )
  assert.equal(aggregate({ items: [], metrics: { n: { op: 'median', field: 'x' } } }), false, 'unknown op')
  assert.equal(aggregate({ items: [], group_by: 'a..b' }), false, 'empty path segment')
  assert.equal(aggregate({ items: [], group_by: ['a', 'b.c'], metrics: { n: { op: 'count' } } }), true)
})
