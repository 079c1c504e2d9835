import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { CloudEvent } from '../../src/core/event.ts'
import type { TriggerSpec, WorkflowDoc } from '../../src/core/workflow.ts'
import { Router, type RouteEntry, type RoutingDecision } from '../../src/mesh/router.ts'
import { triggerEventPattern } from '../../src/mesh/router-triggers.ts'

function wf(id: string, triggers: TriggerSpec[], extra: Partial<RouteEntry> = {}): RouteEntry {
  const doc: WorkflowDoc = { id, triggers, steps: [{ id: 'a', uses: 'data.set' }] }
  return { workflowId: id, version: 1, enabled: true, doc, ...extra }
}

function ev(type: string, data?: unknown, extra: Partial<CloudEvent> = {}): CloudEvent {
  return { specversion: '1.0', id: 'e1', source: '/tests', type, data, ...extra }
}

function router(...entries: RouteEntry[]): Router {
  const r = new Router()
  assert.deepEqual(r.load(entries), [])
  return r
}

const ids = (d: RoutingDecision): string[] => d.matched.map((m) => m.workflowId)
const skips = (d: RoutingDecision): string[] => d.skipped.map((s) => `${s.workflowId}:${s.reason}`)

void test('exact, prefix (any depth, not the stem itself) and * patterns', () => {
  const r = router(
    wf('exact', [{ type: 'event', event: 'kpi.threshold_breach' }]),
    wf('prefix', [{ type: 'event', event: 'kpi.*' }]),
    wf('deep', [{ type: 'event', event: 'kpi.threshold.*' }]),
    wf('all', [{ type: 'event', event: '*' }]),
  )
  assert.deepEqual(ids(r.route(ev('kpi.threshold_breach'))), ['exact', 'prefix', 'all'])
  assert.deepEqual(ids(r.route(ev('kpi.threshold.low.x'))), ['prefix', 'deep', 'all'])
  assert.deepEqual(ids(r.route(ev('kpi'))), ['all'])
  assert.deepEqual(ids(r.route(ev('kpi.threshold'))), ['prefix', 'all'])
  assert.deepEqual(ids(r.route(ev('kpix.a'))), ['all'])
  assert.deepEqual(ids(r.route(ev('KPI.threshold_breach'))), ['all'], 'types are case-sensitive')
  assert.deepEqual(r.subscriptions(), {
    exact: ['kpi.threshold_breach'],
    wildcard: ['*', 'kpi.*', 'kpi.threshold.*'],
  })
})

void test('`events: [..]` lists, and one match per workflow: its first matching trigger', () => {
  const r = router(
    wf('list', [{ type: 'event', events: ['a.one', 'b.*'] }]),
    wf('two', [
      { type: 'event', event: 'a.*', filter: { n: 1 } },
      { type: 'event', event: 'a.one' },
      { type: 'event', events: ['a.one', 'a.*'] },
    ]),
  )
  assert.deepEqual(ids(r.route(ev('a.one'))), ['list', 'two'])
  assert.deepEqual(ids(r.route(ev('b.x.y'))), ['list'])
  assert.deepEqual(ids(r.route(ev('a.two'))), ['two'])
  const d = r.route(ev('a.one', { n: 1 }))
  assert.deepEqual(
    d.matched.map((m) => [m.workflowId, m.triggerIndex]),
    [
      ['list', 0],
      ['two', 0],
    ],
  )
  assert.deepEqual(d.matched[1]!.trigger, { type: 'event', event: 'a.*', filter: { n: 1 } })
  assert.deepEqual(d.skipped, [])
})

void test('map filters: nested paths, lists as "one of", strict JSON equality, envelope keys', () => {
  const r = router(
    wf('critical', [{ type: 'event', event: 't.x', filter: { severity: 'CRITICAL' } }]),
    wf('nested', [
      { type: 'event', event: 't.x', filter: { 'component.id': 'db', 'component.tier': [1, 2] } },
    ]),
    wf('oneof', [{ type: 'event', event: 't.x', filter: { severity: ['CRITICAL', 'HIGH'] } }]),
    wf('envelope', [
      { type: 'event', event: 't.x', filter: { 'event.source': '/svc/a', 'event.subject': 'db' } },
    ]),
    wf('structured', [{ type: 'event', event: 't.x', filter: { tags: [['a', 'b']], meta: { k: 1 } } }]),
    wf('index', [{ type: 'event', event: 't.x', filter: { 'items.0.ok': true } }]),
    wf('null', [{ type: 'event', event: 't.x', filter: { owner: null } }]),
  )
  const route = (data: unknown, extra: Partial<CloudEvent> = {}): string[] =>
    ids(r.route(ev('t.x', data, extra)))
  assert.deepEqual(route({ severity: 'CRITICAL' }), ['critical', 'oneof'])
  assert.deepEqual(route({ severity: 'HIGH' }), ['oneof'])
  assert.deepEqual(route({ severity: 'critical' }), [])
  assert.deepEqual(route({ component: { id: 'db', tier: 2 } }), ['nested'])
  assert.deepEqual(route({ component: { id: 'db', tier: '2' } }), [], '"2" is not 2')
  assert.deepEqual(route({ component: { id: 'db' } }), [])
  assert.deepEqual(route({}, { source: '/svc/a', subject: 'db' }), ['envelope'])
  assert.deepEqual(route({}, { source: '/svc/a' }), [])
  assert.deepEqual(route({ tags: ['a', 'b'], meta: { k: 1 } }), ['structured'])
  assert.deepEqual(route({ tags: ['b', 'a'], meta: { k: 1 } }), [])
  assert.deepEqual(route({ items: [{ ok: true }] }), ['index'])
  assert.deepEqual(route({ items: { 0: { ok: true } } }), ['index'], 'a digit key of a mapping is a key')
  assert.deepEqual(route({ owner: null }), ['null'])
  assert.deepEqual(route({}), [], 'null does not match an absent field')
  assert.deepEqual(route('a string'), [])
  assert.deepEqual(route(undefined), [])
  assert.deepEqual(route({ severity: { constructor: 'x' } }), [])
  assert.deepEqual(
    route(JSON.parse('{"__proto__": {"severity": "CRITICAL"}}')),
    [],
    'inherited keys are not fields',
  )
})

void test('CEL filters over data and the envelope; non-boolean results and failures are filter errors', () => {
  const r = router(
    wf('score', [{ type: 'event', event: 't.x', filter: 'data.severity == "CRITICAL" && data.score < 50' }]),
    wf('envelope', [
      { type: 'event', event: 't.x', filter: 'source == "/svc/a" && event.type == "t.x" && subject == null' },
    ]),
    wf('nonbool', [{ type: 'event', event: 't.x', filter: 'data.severity' }]),
  )
  const critical = r.route(ev('t.x', { severity: 'CRITICAL', score: 45 }, { source: '/svc/a' }))
  assert.deepEqual(ids(critical), ['score', 'envelope'])
  assert.equal(critical.skipped.length, 1)
  assert.equal(critical.skipped[0]!.reason, 'filter_error')
  assert.match(critical.skipped[0]!.detail, /must give true or false, got "CRITICAL"/)

  const missing = r.route(ev('t.x', { severity: 'CRITICAL' }, { subject: 'x' }))
  assert.deepEqual(ids(missing), [])
  assert.deepEqual(skips(missing), ['score:filter_error', 'envelope:filter_false', 'nonbool:filter_error'])
  assert.match(missing.skipped[0]!.detail, /no such key: score/)
  assert.equal(
    missing.skipped[1]!.detail,
    'filter `source == "/svc/a" && event.type == "t.x" && subject == null` is false',
  )
  assert.equal(r.counters().filterErrors, 3)
})

void test('a filter that does not compile is a load problem, and the trigger never matches', () => {
  const r = new Router()
  const problems = r.load([
    wf('bad', [
      { type: 'event', event: 't.x', filter: 'data.score <' },
      { type: 'event', event: 'not a pattern' },
      { type: 'event', event: 't.x', filter: { 'a..b': 1 } },
    ]),
    wf('none', [{ type: 'event' }]),
  ])
  assert.deepEqual(
    problems.map((p) => [p.workflowId, p.triggerIndex]),
    [
      ['bad', 0],
      ['bad', 1],
      ['bad', 2],
      ['none', 0],
    ],
  )
  assert.match(problems[0]!.message, /^trigger 1: its filter does not compile, so it never matches: /)
  assert.match(problems[1]!.message, /`not a pattern` is not an event pattern/)
  assert.match(problems[2]!.message, /filter key `a\.\.b` is not a field path/)
  assert.match(problems[3]!.message, /needs `event`/)
  const d = r.route(ev('t.x', { score: 1 }))
  assert.deepEqual(ids(d), [])
  assert.deepEqual(skips(d), ['bad:filter_error'])
  assert.deepEqual(r.subscriptions(), { exact: [], wildcard: [] })
})

void test('disabled workflows and triggers are skipped without evaluating filters', () => {
  const r = router(
    wf('off', [{ type: 'event', event: 't.x', filter: 'data.n == 1' }], { enabled: false }),
    wf('trigger-off', [{ type: 'event', event: 't.x', enabled: false }]),
    wf('on', [{ type: 'event', event: 't.x' }]),
  )
  const d = r.route(ev('t.x', { n: 1 }))
  assert.deepEqual(ids(d), ['on'])
  assert.deepEqual(skips(d), ['off:disabled', 'trigger-off:disabled'])
  assert.equal(d.skipped[1]!.triggerIndex, 0)
  assert.equal(r.counters().filterEvaluations, 0)
  assert.deepEqual(r.subscriptions(), { exact: ['t.x'], wildcard: [] })
})

void test('activity and escalation triggers subscribe to their namespace, optionally narrowed', () => {
  const r = router(
    wf('any-activity', [{ type: 'activity' }]),
    wf('reviews', [{ type: 'activity', event: 'code_review' }]),
    wf('full', [{ type: 'activity', event: 'activity.code_review.*' }]),
    wf('escalations', [{ type: 'escalation', filter: { level: 2 } }]),
    wf('cron', [{ type: 'schedule', cron: '@daily' }, { type: 'manual' }]),
  )
  assert.deepEqual(ids(r.route(ev('activity.code_review'))), ['any-activity', 'reviews'])
  assert.deepEqual(ids(r.route(ev('activity.code_review.done'))), ['any-activity', 'full'])
  assert.deepEqual(ids(r.route(ev('escalation.raised', { level: 2 }))), ['escalations'])
  assert.deepEqual(ids(r.route(ev('schedule.tick'))), [], 'a tick that names no trigger starts nothing')
  assert.deepEqual(triggerEventPattern({ type: 'webhook', path: 'x' }), {
    patterns: [{ text: 'webhook.received', kind: 'exact', stem: 'webhook.received' }],
    targeted: true,
    problems: [],
  })
  assert.equal(triggerEventPattern({ type: 'manual' }), undefined)
})

void test('explain names every workflow once, with the reason and the values the filter saw', () => {
  const r = router(
    wf('match', [{ type: 'event', event: 't.*' }]),
    wf('mismatch', [
      { type: 'event', event: 'u.x' },
      { type: 'event', events: ['v.*', 'u.x'] },
    ]),
    wf('no-trigger', [{ type: 'schedule', cron: '@daily' }]),
    wf('bare', []),
    wf('off', [{ type: 'event', event: 't.x' }], { enabled: false }),
    wf('off-false', [{ type: 'event', event: 't.x', filter: { severity: 'LOW' } }], { enabled: false }),
    wf('off-mismatch', [{ type: 'event', event: 'u.x' }], { enabled: false }),
    wf('map-false', [
      { type: 'event', event: 't.x', filter: { severity: 'CRITICAL', 'component.id': ['a', 'b'] } },
    ]),
    wf('cel-false', [
      { type: 'event', event: 't.x', filter: 'data.score < 50 && has(data.missing) && source != "x"' },
    ]),
    wf('cel-error', [{ type: 'event', event: 't.x', filter: 'data.missing > 1' }]),
  )
  const before = r.counters()
  const d = r.explain(ev('t.x', { severity: 'WARNING', score: 70, component: { id: 'c' } }))
  assert.deepEqual(r.counters(), before, 'explain counts nothing')
  assert.deepEqual(ids(d), ['match'])
  assert.deepEqual(skips(d), [
    'mismatch:type_mismatch',
    'no-trigger:no_event_trigger',
    'bare:no_event_trigger',
    'off:disabled',
    'off-false:disabled',
    'off-mismatch:type_mismatch',
    'map-false:filter_false',
    'cel-false:filter_false',
    'cel-error:filter_error',
  ])
  const detail = Object.fromEntries(d.skipped.map((s) => [s.workflowId, s.detail]))
  assert.equal(detail.mismatch, 'event type `t.x` matches none of its patterns: u.x, v.*')
  assert.match(detail['no-trigger']!, /its triggers are schedule/)
  assert.equal(detail.bare, 'the workflow has no triggers')
  assert.equal(detail.off, 'the workflow is disabled; trigger 1 would start it otherwise')
  assert.match(
    detail['off-false']!,
    /disabled; otherwise: filter \{"severity":"LOW"\} is false: severity is "WARNING"/,
  )
  assert.match(detail['off-mismatch']!, /also disabled$/)
  assert.equal(
    detail['map-false'],
    'filter {"severity":"CRITICAL","component.id":["a","b"]} is false: severity is "WARNING" (wanted "CRITICAL"); component.id is "c" (wanted one of ["a","b"])',
  )
  assert.equal(
    detail['cel-false'],
    'filter `data.score < 50 && has(data.missing) && source != "x"` is false; it read data.score = 70, data.missing = (absent), source = "/tests"',
  )
  assert.match(detail['cel-error']!, /^filter `data.missing > 1` failed: no such key: missing/)
  const mapFalse = d.skipped.find((s) => s.workflowId === 'map-false')!
  assert.deepEqual(mapFalse.seen, { severity: 'WARNING', 'component.id': 'c' })
  assert.deepEqual(mapFalse.filter, { severity: 'CRITICAL', 'component.id': ['a', 'b'] })
  assert.equal(mapFalse.triggerIndex, 0)
})

void test('route and explain agree on who matches', () => {
  const r = router(
    wf('a', [{ type: 'event', event: 'x.*', filter: 'data.n > 1' }]),
    wf('b', [{ type: 'event', events: ['x.y', 'z'], filter: { n: [1, 2] } }]),
    wf('c', [{ type: 'event', event: '*' }], { enabled: false }),
  )
  for (const data of [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]) {
    for (const type of ['x.y', 'x', 'z', 'x.y.z']) {
      const event = ev(type, data)
      assert.deepEqual(r.route(event).matched, r.explain(event).matched, `${type} ${JSON.stringify(data)}`)
    }
  }
})

void test('load replaces the table atomically and reuses filters compiled for an unchanged (id, version)', () => {
  const r = new Router()
  const v1 = wf('a', [{ type: 'event', event: 't.x', filter: 'data.n == 1' }])
  const b = wf('b', [{ type: 'event', event: 't.*', filter: { n: 1 } }])
  r.load([v1, b])
  assert.equal(r.counters().filterCompilations, 2)
  assert.deepEqual(ids(r.route(ev('t.x', { n: 1 }))), ['a', 'b'])

  r.load([{ ...v1, enabled: false }, b])
  assert.equal(r.counters().filterCompilations, 2, 'nothing recompiled')
  assert.deepEqual(skips(r.route(ev('t.x', { n: 1 }))), ['a:disabled'])

  const v2 = wf('a', [{ type: 'event', event: 't.y', filter: 'data.n == 2' }], { version: 2 })
  r.load([v2])
  assert.equal(r.counters().filterCompilations, 3)
  assert.deepEqual(ids(r.route(ev('t.x', { n: 1 }))), [], 'b is gone, a moved to t.y')
  assert.deepEqual(ids(r.route(ev('t.y', { n: 2 }))), ['a'])
  assert.deepEqual(r.subscriptions(), { exact: ['t.y'], wildcard: [] })

  r.load([v1, v2])
  assert.equal(r.counters().filterCompilations, 4, 'v1 was released by the previous load')
  assert.deepEqual(ids(r.route(ev('t.x', { n: 1 }))), ['a'], 'a repeated id keeps its first entry')
})

void test('10,000 workflows: routing costs only the subscribers of the event type', () => {
  const entries: RouteEntry[] = []
  for (let i = 0; i < 10_000; i++) {
    entries.push(wf(`w${i}`, [{ type: 'event', event: `type${i % 1000}.happened`, filter: { n: i } }]))
  }
  entries.push(wf('wild', [{ type: 'event', event: 'type7.*', filter: 'data.n >= 0' }]))
  const r = router(...entries)
  r.route(ev('nobody.listens', { n: 1 }))
  assert.equal(r.counters().filterEvaluations, 0, 'an unsubscribed type evaluates no filter')

  const d = r.route(ev('type7.happened', { n: 1007 }))
  assert.deepEqual(ids(d), ['w1007', 'wild'])
  assert.equal(d.skipped.length, 9)
  assert.equal(r.counters().filterEvaluations, 11, 'the 10 exact subscribers and the wildcard one')
  r.route(ev('type7.happened', { n: 1007 }))
  assert.equal(r.counters().filterEvaluations, 22)
  assert.deepEqual(r.counters().matches, 4)
  assert.equal(r.counters().events, 3)
})

void test('decisions share frozen match objects; the arrays are fresh', () => {
  const r = router(wf('a', [{ type: 'event', event: 't.x' }]))
  const one = r.route(ev('t.x'))
  const two = r.route(ev('t.x'))
  assert.notEqual(one.matched, two.matched)
  assert.equal(one.matched[0], two.matched[0])
  assert.ok(Object.isFrozen(one.matched[0]))
})
