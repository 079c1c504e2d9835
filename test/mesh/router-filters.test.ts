import assert from 'node:assert/strict'
import { test } from 'node:test'
import { celShortcut, compileEventFilter, FilterInput } from '../../src/core/event-filter.ts'
import type { CloudEvent } from '../../src/core/event.ts'
import { compileExpression } from '../../src/core/expr/index.ts'

/**
 * The CEL shortcut evaluates simple comparisons natively; it must never disagree with CEL. Every
 * expression below runs against every event, through the shortcut and through CEL itself.
 */
const SHORTCUT = [
  'data.severity == "CRITICAL"',
  "data.severity != 'CRITICAL'",
  'data.severity == "CRITICAL" && data.score < 50',
  'data.score < 50 || data.severity == "CRITICAL"',
  '(data.score >= 10 && data.score <= 90) || data.ok == true',
  'data.score > 49.5',
  'data.score == 45',
  'data.score == 45.0',
  'data.score != -3',
  '50 > data.score',
  '"CRITICAL" == data.severity',
  'data.severity in ["CRITICAL", "HIGH"]',
  'data.score in [45, 46]',
  'data.component.id == "db"',
  'data.component.tier >= 2',
  'data.ok == false',
  'data.owner == null',
  'data.owner != null',
  'data.missing == 1',
  'data.missing == 1 && data.score < 50',
  'data.score < 50 && data.missing == 1',
  'data.missing == 1 || data.score < 50',
  'data.toString == "x"',
  'data.valueOf == 1 || data.score < 50',
  'data.length == 2',
  'data.list.length == 2',
  'event.source == "/svc/a"',
  'event.type == "t.x" && event.data.score < 50',
  'source == "/svc/a"',
  'subject == "db"',
  'subject == null',
  'data.score < 1e2',
  'data.big == 9007199254740991',
]

const NOT_SHORTCUT = [
  'has(data.severity)',
  'data.severity.startsWith("C")',
  'data["severity"] == "CRITICAL"',
  '!(data.score < 50)',
  'data.score + 1 > 50',
  'data.severity == "a\\"b"',
  'data.severity == r"CRITICAL"',
  'data.severity < "D"',
  'data.ok == true == true',
  'data.score == 9007199254740993',
  'data.score == 1u',
  'data.severity in []',
  'data.x in [1, "a"]',
  'inputs.x == 1',
]

function ev(data: unknown, extra: Partial<CloudEvent> = {}): CloudEvent {
  return { specversion: '1.0', id: 'e', source: '/svc/a', type: 't.x', data, ...extra }
}

const EVENTS: CloudEvent[] = [
  ev({
    severity: 'CRITICAL',
    score: 45,
    ok: true,
    owner: null,
    component: { id: 'db', tier: 2 },
    list: [1, 2],
  }),
  ev({ severity: 'HIGH', score: 95.5, ok: false, owner: 'me', component: { id: 'web', tier: 1 } }),
  ev({ severity: 45, score: 'CRITICAL', ok: 'yes', component: 'db', big: 9007199254740991 }),
  ev({ severity: 'CRITICAL', score: 10, missing: 1, constructor: 'x' }),
  ev({ component: { constructor: 'x', id: 'db', tier: 3 }, score: 0 }),
  ev({ score: -3, severity: null, length: 2 }),
  ev([1, 2]),
  ev('text'),
  ev(undefined),
  ev(null, { source: '/svc/b', subject: 'db' }),
  ev(JSON.parse('{"__proto__": {"severity": "CRITICAL"}, "score": 1}')),
  ev(JSON.parse('{"toString": "x", "valueOf": 1, "score": 3}')),
]

function celOutcome(source: string, event: CloudEvent): boolean | 'error' {
  try {
    const value = compileExpression(source).evaluate(new FilterInput().reset(event).celContext())
    return typeof value === 'boolean' ? value : 'error'
  } catch {
    return 'error'
  }
}

void test('the CEL shortcut covers simple comparisons and agrees with CEL on every event', () => {
  let answered = 0
  for (const source of SHORTCUT) {
    const shortcut = celShortcut(source)
    assert.ok(shortcut, `no shortcut for ${source}`)
    const filter = compileEventFilter(source)!
    for (const [i, event] of EVENTS.entries()) {
      const expected = celOutcome(source, event)
      const quick = shortcut(event)
      if (quick !== -1) {
        answered++
        assert.equal(quick === 1, expected, `${source} on event ${i}: shortcut ${quick}, CEL ${expected}`)
      }
      const input = new FilterInput().reset(event)
      if (expected === 'error') assert.throws(() => filter.test(input), `${source} on event ${i}`)
      else assert.equal(filter.test(input), expected, `${source} on event ${i}`)
    }
  }
  assert.ok(answered > SHORTCUT.length * 3, `the shortcut answered only ${answered} times`)
})

void test('anything else is left to CEL', () => {
  for (const source of NOT_SHORTCUT) assert.equal(celShortcut(source), undefined, source)
})

void test('filters that are neither a map nor a string, and map keys that are not paths, do not compile', () => {
  assert.equal(compileEventFilter(undefined), undefined)
  assert.equal(compileEventFilter(null), undefined)
  assert.throws(() => compileEventFilter(42), /a filter is a map of field values/)
  assert.throws(() => compileEventFilter(['a']), /a filter is a map of field values/)
  assert.throws(() => compileEventFilter({ event: 'x' }), /filter key `event` is not a field path/)
  assert.throws(() => compileEventFilter({ 'a.': 'x' }), /not a field path/)
  assert.throws(() => compileEventFilter({ a: [] }), /empty list/)
  assert.throws(() => compileEventFilter('data.score <'), { code: 'HS_ERR_EXPR_PARSE' })
  assert.throws(() => compileEventFilter(''), /empty/)
  assert.equal(compileEventFilter({})!.test(new FilterInput().reset(ev({}))), true)
})
