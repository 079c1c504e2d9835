import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dataTransform } from '../../../src/actions/data-actions.ts'
import { evaluateTransform, TRANSFORM_LIMITS } from '../../../src/actions/data/jsonata-sandbox.ts'
import { NonRetryableError } from '../../../src/core/errors.ts'
import type { WorkflowDoc } from '../../../src/core/workflow.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { harness } from '../../helpers/engine-harness.ts'

const ORDERS = {
  orders: [
    { id: 'a', total: 120, customer: { name: 'Ann', region: 'EU' } },
    { id: 'b', total: 40, customer: { name: 'Bob', region: 'US' } },
    { id: 'c', total: 300, customer: { name: 'Cy', region: 'EU' } },
  ],
}

/** expression, input, expected `result`. */
const CASES: Array<[string, unknown, unknown]> = [
  ['orders[total > 100].id', ORDERS, ['a', 'c']],
  ['$sum(orders.total)', ORDERS, 460],
  ['orders{customer.region: $sum(total)}', ORDERS, { EU: 420, US: 40 }],
  ['(orders.{"who": customer.name, "due": total * 2})[0]', ORDERS, { who: 'Ann', due: 240 }],
  ['$count(orders)', ORDERS, 3],
  ['orders[customer.region = "XX"]', ORDERS, null],
  ['$uppercase(name)', { name: 'homeostat' }, 'HOMEOSTAT'],
  ['$join(tags, ", ")', { tags: ['a', 'b'] }, 'a, b'],
  ['$pad("7", -3, "0")', {}, '007'],
  ['$pad("ab", 5)', {}, 'ab   '],
  ['[1..5][$ % 2 = 0]', {}, [2, 4]],
  ['$map([1,2,3], function($v){ $v * $v })', {}, [1, 4, 9]],
  ['( $f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(10) )', {}, 3628800],
  ['$merge([{"a": 1}, {"b": 2}])', {}, { a: 1, b: 2 }],
  ['$exists(missing)', {}, false],
  ['$string({"a": [1, 2]})', {}, '{"a":[1,2]}'],
  ['$eval("1 + 2")', {}, 3],
  ['$ ~> |items|{"seen": true}|', { items: [{ n: 1 }] }, { items: [{ n: 1, seen: true }] }],
]

for (const [expression, input, expected] of CASES) {
  test(`data.transform ${expression}`, async () => {
    const out = await runAction(dataTransform, { expression, input })
    assert.deepEqual(out, { result: expected })
  })
}

test('data.transform reads the run context when no input is given', async () => {
  const ctx = actionContext({
    trigger: { type: 'manual', source: 'cli' },
    steps: { fetch: { status: 'succeeded', output: { count: 4 } } },
  })
  const out = await runAction(
    dataTransform,
    { expression: '{"n": steps.fetch.output.count, "via": trigger.source}' },
    ctx,
  )
  assert.deepEqual(out, { result: { n: 4, via: 'cli' } })
})

test('data.transform binds `bindings` as $variables', async () => {
  const out = await runAction(dataTransform, {
    expression: 'orders[total >= $min].id',
    input: ORDERS,
    bindings: { min: 120 },
  })
  assert.deepEqual(out, { result: ['a', 'c'] })
})

/** Syntax errors: the message names the position and JSONata's code. */
const SYNTAX: Array<[string, RegExp]> = [
  ['foo.bar +', /does not parse at position 9 .*Unexpected end of expression \[S0207\]/],
  ['{"a": }', /does not parse at position 7 near `}`.*\[S0211\]/],
  ['orders[total > ', /does not parse at position \d+/],
  ['$f(', /does not parse at position \d+/],
  ['"unterminated', /does not parse at position \d+.*\[S0101\]/],
]
for (const [expression, message] of SYNTAX) {
  test(`data.transform syntax error: ${expression}`, async () => {
    await assert.rejects(runAction(dataTransform, { expression, input: {} }), (err: Error) => {
      assert.ok(err instanceof NonRetryableError, 'a syntax error is not retried')
      assert.match(err.message, message)
      assert.ok(err.message.includes(expression), 'the message quotes the expression')
      return true
    })
  })
}

/** Hostile expressions: each stops with a clear, non-retryable error, well inside the time box. */
const HOSTILE: Array<[string, string, RegExp]> = [
  ['infinite tail recursion', '( $inf := function(){ $inf() }; $inf() )', /time limit 1000ms\) \[D1012\]/],
  [
    'unbounded recursion',
    '( $inf := function($n){ $n + $inf($n + 1) }; $inf(1) )',
    /depth limit 500\) \[D1011\]/,
  ],
  ['mutual recursion', '( $a := function(){ 1 + $b() }; $b := function(){ 1 + $a() }; $a() )', /\[D1011\]/],
  ['huge range', '[1..10000000]', /sequence limit 100000\) \[D2015\]/],
  ['huge range over the engine limit', '[1..100000000]', /\[D2014\]|\[D2015\]/],
  ['cross product', '$count([1..50000].[1..50000])', /\[D1012\]|\[D2015\]/],
  [
    'string doubling',
    '( $f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("x", 40) )',
    /built a string of \d+ characters; the limit is 4194304/,
  ],
  ['huge pad', '$pad("x", 1000000000)', /\$pad to 1000000000 characters; the limit is 4194304/],
  ['huge output', '[$pad("", 3000000), $pad("", 3000000)]', /larger than 4194304 characters of JSON/],
  ['function result', 'function($x){ $x }', /holds a function/],
  ['builtin function result', '$sum', /holds a function/],
  [
    'deep output',
    '( $d := function($n){ $n = 0 ? 1 : {"a": $d($n - 1)} }; $d(150) )',
    /nests deeper than 100 levels/,
  ],
]
for (const [name, expression, message] of HOSTILE) {
  test(`data.transform hostile: ${name}`, async () => {
    await assert.rejects(runAction(dataTransform, { expression, input: {} }), (err: Error) => {
      assert.ok(err instanceof NonRetryableError, `${err.name}: ${err.message}`)
      assert.match(err.message, message)
      return true
    })
  })
}

test('data.transform cannot pollute prototypes or reach the host', async () => {
  const probes = [
    '$merge([{"__proto__": {"polluted": true}}])',
    '$ ~> |$|{"__proto__": {"polluted": true}}|',
    '{"constructor": {"prototype": {"polluted": true}}}',
    'constructor',
    '$.constructor.name',
    '$string($.__proto__)',
    '$lookup($, "constructor")',
  ]
  for (const expression of probes) {
    const out = (await runAction(dataTransform, { expression, input: { a: 1 } }).catch((err: Error) => ({
      error: err.message,
    }))) as Record<string, unknown>
    assert.equal(({} as Record<string, unknown>).polluted, undefined, expression)
    assert.equal(typeof out.result === 'function', false, expression)
  }
  const leaked = await runAction(dataTransform, { expression: '$.constructor', input: { a: 1 } })
  assert.deepEqual(leaked, { result: null }, 'inherited properties are not visible')
})

test('data.transform stops when the step is aborted', async () => {
  const controller = new AbortController()
  const reason = new Error('step timed out')
  setTimeout(() => controller.abort(reason), 50)
  const started = evaluateTransform(
    '( $inf := function(){ $inf() }; $inf() )',
    {},
    { signal: controller.signal },
  )
  await assert.rejects(started, (err: Error) => err === reason)
})

test('bindings must be variable names', async () => {
  await assert.rejects(evaluateTransform('1', {}, { bindings: { 'a-b': 1 } }), /`a-b` is not a variable name/)
})

test('limits are documented values', () => {
  assert.equal(TRANSFORM_LIMITS.timeoutMs, 1000)
  assert.equal(TRANSFORM_LIMITS.maxDepth, 500)
})

test('data.transform in a workflow: templated input, output read by a later step', async () => {
  const h = await harness()
  const doc: WorkflowDoc = {
    id: 'transform-flow',
    name: 'transform',
    steps: [
      { id: 'seed', uses: 'data.set', with: ORDERS },
      {
        id: 'big',
        uses: 'data.transform',
        needs: ['seed'],
        with: { expression: 'orders[total > 100].id', input: '{{ steps.seed.output }}' },
      },
      {
        id: 'ctx',
        uses: 'data.transform',
        needs: ['big'],
        with: { expression: '$count(steps.big.output.result)' },
      },
      { id: 'bad', uses: 'data.transform', needs: ['ctx'], with: { expression: 'orders[' } },
    ],
  } as unknown as WorkflowDoc
  await h.deploy(doc)
  const run = await h.settled(await h.start('transform-flow'))
  assert.equal(run.status, 'failed')
  const attempts = await h.attempts(run.id)
  const by = (id: string) => attempts.find((a) => a.stepId === id)!
  assert.deepEqual(by('big').output, { result: ['a', 'c'] })
  assert.deepEqual(by('ctx').output, { result: 2 })
  assert.match(JSON.stringify(by('bad').error), /does not parse at position/)
  assert.equal(attempts.filter((a) => a.stepId === 'bad').length, 1, 'a syntax error is not retried')
})
