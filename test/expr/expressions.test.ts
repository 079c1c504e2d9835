import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  compileExpression,
  compileTemplate,
  EXPRESSION_LIMITS,
  ExpressionError,
  isTemplateString,
  templateProblems,
  type ExprContext,
} from '../../src/core/expr/index.ts'

const ctx: ExprContext = {
  inputs: {
    name: 'Ada',
    count: 5,
    price: 19.5,
    score: 45,
    tags: ['a', 'b', 'c', 'd'],
    nested: { deep: { value: 1 } },
    empty: null,
  },
  vars: { greeting: 'Hello' },
  steps: {
    fetch: {
      output: {
        items: [
          { id: 1, ok: true },
          { id: 2, ok: false },
        ],
        total: 2,
      },
      status: 'succeeded',
      attempts: 1,
    },
    'send-mail': {
      output: { messageId: 'm-1' },
      status: 'failed',
      error: { message: 'SMTP down' },
      attempts: 3,
    },
  },
  run: { id: 'r-1', workflow: 'hello', version: 3, attempt: 1 },
  trigger: { type: 'webhook' },
  event: { type: 'order.created', data: { amount: 120.5, currency: 'EUR' } },
  item: { sku: 'X-1', qty: 2 },
  index: 0,
}

const evaluate = (source: string, context: ExprContext = ctx): unknown =>
  compileExpression(source).evaluate(context)

function expressionError(fn: () => unknown): ExpressionError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `expected ExpressionError, got ${String(err)}`)
    return err
  }
  assert.fail('expected an ExpressionError')
}

describe('typed results', () => {
  test('scalars, lists and maps come back as plain JSON', () => {
    assert.equal(evaluate('1 + 2'), 3)
    assert.equal(evaluate('1.5 * 2.0'), 3)
    assert.equal(evaluate('"a" + "b"'), 'ab')
    assert.equal(evaluate('1 < 2'), true)
    assert.equal(evaluate('null'), null)
    assert.deepEqual(evaluate('[1, "two", 3.5, true, null]'), [1, 'two', 3.5, true, null])
    assert.deepEqual(evaluate('{"a": 1, "b": [1, 2], "c": {"d": null}}'), { a: 1, b: [1, 2], c: { d: null } })
    assert.deepEqual(evaluate('inputs.tags.map(t, t + "!")'), ['a!', 'b!', 'c!', 'd!'])
  })

  test('CEL-only values are converted to JSON', () => {
    assert.equal(evaluate('9007199254740993'), '9007199254740993', 'ints beyond 2^53 become decimal strings')
    assert.equal(evaluate('-9007199254740991'), -9007199254740991)
    assert.equal(evaluate('42u'), 42)
    assert.equal(evaluate('b"hi"'), 'aGk=')
    assert.equal(evaluate('timestamp("2024-01-15T14:30:45.123Z")'), '2024-01-15T14:30:45.123Z')
    assert.equal(evaluate('duration("90s")'), '90s')
    assert.equal(evaluate('type(1)'), 'int')
    assert.equal(evaluate('inputs.?missing'), null)
    assert.equal(evaluate('inputs.?name'), 'Ada')
  })

  test('results are fresh copies and the context is never modified', () => {
    const context = { inputs: { list: [{ a: 1 }], obj: { b: [2] } } }
    const before = structuredClone(context)
    const list = evaluate('inputs.list', context) as Array<{ a: number }>
    list[0]!.a = 99
    const obj = evaluate('inputs.obj', context) as { b: number[] }
    obj.b.push(3)
    evaluate('inputs.list.map(x, x).filter(x, true) + [{"a": 2}]', context)
    assert.deepEqual(context, before)
  })

  test('non-JSON results are errors', () => {
    assert.equal(expressionError(() => evaluate('1.0 / 0.0')).code, 'HS_ERR_EXPR_EVAL')
    assert.match(expressionError(() => evaluate('cel')).message, /not JSON data/)
    assert.match(expressionError(() => evaluate('inputs', { inputs: { f: () => 1 } })).message, /function/)
  })
})

describe('context variables', () => {
  test('inputs, vars, steps, run, trigger, event, item and index', () => {
    assert.equal(evaluate("vars.greeting + ', ' + inputs.name"), 'Hello, Ada')
    assert.equal(evaluate('steps.fetch.output.total'), 2)
    assert.equal(evaluate('steps.fetch.status == "succeeded"'), true)
    assert.equal(evaluate('steps["send-mail"].error.message'), 'SMTP down')
    assert.equal(evaluate('steps["send-mail"].attempts'), 3)
    assert.deepEqual(evaluate('steps.fetch.output.items.filter(i, i.ok).map(i, i.id)'), [1])
    assert.equal(evaluate('run.id + "/" + run.workflow + "@" + string(run.version)'), 'r-1/hello@3')
    assert.equal(evaluate('trigger.type'), 'webhook')
    assert.equal(evaluate('event.data.amount > 100.0 && event.data.currency in ["EUR", "USD"]'), true)
    assert.equal(evaluate('item.sku + ":" + string(index)'), 'X-1:0')
  })

  test('missing keys name the key and the expression; has() and optionals test for them', () => {
    const err = expressionError(() => evaluate('inputs.nope == 1'))
    assert.equal(err.code, 'HS_ERR_EXPR_EVAL')
    assert.match(err.message, /no such key: nope/)
    assert.match(err.message, /inputs\.nope == 1/)
    assert.equal(err.offset, 7)
    assert.equal(err.expression, 'inputs.nope == 1')
    assert.equal(evaluate('has(inputs.nope)'), false)
    assert.equal(evaluate('has(inputs.nested.deep.value)'), true)
    assert.equal(evaluate('has(inputs.name) ? inputs.name : "anon"'), 'Ada')
    assert.equal(evaluate('inputs.?nope.orValue("default")'), 'default')
    assert.equal(evaluate('inputs.?nested.?deep.?value.orValue(0)'), 1)
  })

  test('an unknown variable lists what the context has', () => {
    const err = expressionError(() => evaluate('input.name', { inputs: {}, vars: {} }))
    assert.equal(err.code, 'HS_ERR_EXPR_EVAL')
    assert.match(err.message, /unknown variable: input; the context has inputs, vars/)
  })
})

describe('numbers', () => {
  test('JSON numbers mix with CEL int and double literals', () => {
    assert.equal(evaluate('inputs.score < 50.0'), true)
    assert.equal(evaluate('inputs.score < 50'), true)
    assert.equal(evaluate('inputs.score == 45'), true)
    assert.equal(evaluate('45 == inputs.score'), true)
    assert.equal(evaluate('size(inputs.tags) > 3'), true)
    assert.equal(evaluate('inputs.count + 1'), 6)
    assert.equal(evaluate('1 + inputs.count'), 6)
    assert.equal(evaluate('inputs.count - 1'), 4)
    assert.equal(evaluate('inputs.price * 2'), 39)
    assert.equal(evaluate('inputs.count / 2'), 2.5, 'JSON numbers divide like JSON/JavaScript')
    assert.equal(evaluate('7 / 2'), 3, 'int literals keep CEL integer division')
    assert.equal(evaluate('inputs.count % 2'), 1)
    assert.equal(evaluate('inputs.count in [4, 5, 6]'), true)
    assert.equal(evaluate('int(inputs.price)'), 19)
    assert.equal(evaluate('string(inputs.count)'), '5')
    assert.equal(evaluate('1 + 0.5'), 1.5)
    assert.deepEqual(evaluate('[1, 2].map(x, x * inputs.price)'), [19.5, 39])
  })

  test('integer overflow and division by zero are evaluation errors', () => {
    assert.equal(expressionError(() => evaluate('9223372036854775807 + 1')).code, 'HS_ERR_EXPR_EVAL')
    assert.match(expressionError(() => evaluate('1 / 0')).message, /division by zero/)
  })
})

describe('templates', () => {
  test('a string that is exactly one {{ }} yields the typed value', () => {
    assert.equal(compileTemplate('{{ inputs.count }}').render(ctx), 5)
    assert.equal(compileTemplate('  {{ inputs.count > 1 }}\n').render(ctx), true)
    assert.deepEqual(compileTemplate('{{ inputs.tags }}').render(ctx), ['a', 'b', 'c', 'd'])
    assert.deepEqual(compileTemplate('{{ {"a": {"b": 1}} }}').render(ctx), { a: { b: 1 } })
    assert.equal(compileTemplate('{{ inputs.empty }}').render(ctx), null)
  })

  test('other strings interpolate text', () => {
    assert.equal(
      compileTemplate('Hi {{ inputs.name }}, {{ inputs.count }} items').render(ctx),
      'Hi Ada, 5 items',
    )
    assert.equal(compileTemplate('{{ inputs.name }}{{ inputs.count }}').render(ctx), 'Ada5')
    assert.equal(
      compileTemplate('[{{ inputs.empty }}]').render(ctx),
      '[]',
      'null renders as the empty string',
    )
    assert.equal(
      compileTemplate('tags={{ inputs.tags }} n={{ inputs.nested }} ok={{ true }}').render(ctx),
      'tags=["a","b","c","d"] n={"deep":{"value":1}} ok=true',
    )
    assert.equal(compileTemplate('{{ "}}" }} and {{ "{{" }}').render(ctx), '}} and {{')
    assert.equal(compileTemplate("{{ '{{ x }}' }}").render(ctx), '{{ x }}')
  })

  test('objects and arrays are walked; static parts are returned by identity', () => {
    const staticPart = { keep: ['me', 1] }
    const value = { message: 'Hi {{ inputs.name }}', list: ['x', '{{ index + 1 }}'], staticPart, n: 3 }
    const template = compileTemplate(value)
    assert.equal(template.dynamic, true)
    const out = template.render(ctx) as typeof value
    assert.deepEqual(out, { message: 'Hi Ada', list: ['x', 1], staticPart: { keep: ['me', 1] }, n: 3 })
    assert.equal(out.staticPart, staticPart)
    const plain = { a: 'no templates here', b: [1, { c: true }], '{{ keys }}': 'are never templates' }
    const staticTemplate = compileTemplate(plain)
    assert.equal(staticTemplate.dynamic, false)
    assert.equal(staticTemplate.render(ctx), plain)
  })

  test('a rendered "__proto__" key is data, not a prototype', () => {
    const out = compileTemplate(JSON.parse('{"__proto__": {"polluted": "{{ 1 }}"}}')).render(ctx) as Record<
      string,
      unknown
    >
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.deepEqual(Object.keys(out), ['__proto__'])
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  test('errors carry the JSON pointer, the expression and the offset', () => {
    const compileErr = expressionError(() => compileTemplate({ a: { b: ['ok', 'x {{ 1 + }}'] } }))
    assert.equal(compileErr.code, 'HS_ERR_EXPR_PARSE')
    assert.equal(compileErr.pointer, '/a/b/1')
    assert.equal(compileErr.expression, '1 +')
    assert.equal(compileErr.offset, 3)
    assert.match(compileErr.message, /^\/a\/b\/1: /)
    const renderErr = expressionError(() => compileTemplate({ 'a/b': '{{ inputs.nope }}' }).render(ctx))
    assert.equal(renderErr.code, 'HS_ERR_EXPR_EVAL')
    assert.equal(renderErr.pointer, '/a~1b')
    assert.match(renderErr.message, /no such key: nope/)
  })

  test('templateProblems reports every problem at once', () => {
    const problems = templateProblems({
      a: '{{ 1 + }}',
      b: ['fine {{ 1 }}', '{{ x', '{{ "a" + 1 }} and {{ y.__proto__ }}'],
      c: '{{ }}',
    })
    assert.deepEqual(
      problems.map((p) => [p.pointer, p.code]),
      [
        ['/a', 'HS_ERR_EXPR_PARSE'],
        ['/b/1', 'HS_ERR_EXPR_PARSE'],
        ['/b/2', 'HS_ERR_EXPR_PARSE'],
        ['/b/2', 'HS_ERR_EXPR_PARSE'],
        ['/c', 'HS_ERR_EXPR_PARSE'],
      ],
    )
    assert.match(problems[1]!.message, /not closed/)
    assert.match(problems[2]!.message, /no such overload: string \+ int/)
    assert.equal(problems[3]!.expression, 'y.__proto__')
    assert.deepEqual(templateProblems({ ok: 'Hi {{ inputs.name }}' }), [])
  })

  test('isTemplateString', () => {
    assert.equal(isTemplateString('Hi {{ x }}'), true)
    assert.equal(isTemplateString('Hi { x }'), false)
  })
})

describe('compile errors and limits', () => {
  test('syntax errors carry the offset of the problem', () => {
    const err = expressionError(() => compileExpression('inputs.a +* 2'))
    assert.equal(err.code, 'HS_ERR_EXPR_PARSE')
    assert.equal(err.offset, 10)
    assert.match(err.message, /unexpected token: MULTIPLY \(in `inputs\.a \+\* 2` at offset 10\)/)
  })

  test('static type errors are found at compile time', () => {
    const err = expressionError(() => compileExpression('1 + "a"'))
    assert.equal(err.code, 'HS_ERR_EXPR_PARSE')
    assert.match(err.message, /type error: no such overload: int \+ string/)
  })

  test('structural limits name the limit', () => {
    const long = expressionError(() => compileExpression(`"${'a'.repeat(EXPRESSION_LIMITS.maxLength)}"`))
    assert.equal(long.code, 'HS_ERR_EXPR_LIMIT')
    assert.match(long.message, /limit maxLength/)
    const list = expressionError(() =>
      compileExpression(`[${Array.from({ length: 1001 }, () => '1').join(',')}]`),
    )
    assert.equal(list.code, 'HS_ERR_EXPR_LIMIT')
    assert.match(list.message, /limit maxListLiteral/)
    const deep = expressionError(() => compileExpression(`${'('.repeat(100)}1${')'.repeat(100)}`))
    assert.match(deep.message, /nested too deeply.*limit maxDepth/)
    const nest = expressionError(() =>
      compileExpression('l.map(a, l.map(b, l.map(c, l.map(d, a + b + c + d))))'),
    )
    assert.equal(nest.code, 'HS_ERR_EXPR_LIMIT')
    assert.match(nest.message, /limit maxComprehensionNesting/)
  })

  test('an empty expression is an error', () => {
    assert.equal(expressionError(() => compileExpression('  ')).code, 'HS_ERR_EXPR_PARSE')
  })
})

describe('memoisation', () => {
  test('the same source compiles once', () => {
    const a = compileExpression('inputs.count * 3')
    const b = compileExpression('inputs.count * 3')
    assert.equal(a, b)
    assert.equal(a.source, 'inputs.count * 3')
    assert.equal(a.evaluate(ctx), 15)
  })

  test('compiled expressions are reusable with many contexts', () => {
    const e = compileExpression('inputs.n * 2')
    for (let n = 0; n < 100; n++) assert.equal(e.evaluate({ inputs: { n } }), n * 2)
  })
})

describe('matches()', () => {
  test('RE2-style regular expressions', () => {
    assert.equal(evaluate('"ada@example.com".matches("^[a-z]+@[a-z]+\\\\.com$")'), true)
    assert.equal(evaluate('inputs.name.matches("^B")'), false)
    assert.equal(evaluate('inputs.tags.exists(t, t.matches("[cd]"))'), true)
  })

  test('patterns needing backtracking are refused', () => {
    const err = expressionError(() => compileExpression('inputs.name.matches("(a)\\\\1")'))
    assert.equal(err.code, 'HS_ERR_EXPR_PARSE')
    assert.match(err.message, /backreferences, lookaround/)
  })
})
