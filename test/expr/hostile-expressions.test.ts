import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compileExpression, compileTemplate, ExpressionError } from '../../src/core/expr/index.ts'
import { HOSTILE_CORPUS, HOSTILE_TEMPLATES, hostileContext } from './hostile-corpus.ts'

const TIMEOUT = { timeout: 5000 }

function snapshot(): Record<string, string[]> {
  const names = (o: object): string[] => Reflect.ownKeys(o).map(String).sort()
  return {
    object: names(Object.prototype),
    array: names(Array.prototype),
    function: names(Function.prototype),
    string: names(String.prototype),
    globals: names(globalThis),
  }
}

/** A JSON text of the context, functions and symbols included, to see it was not modified. */
function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'function' || typeof v === 'symbol' ? `<${String(v)}>` : v,
  )
}

function expressionError(fn: () => unknown): ExpressionError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ExpressionError) return err
    assert.fail(
      `expected an ExpressionError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    )
  }
  assert.fail('expected an ExpressionError, but it succeeded')
}

describe('hostile expressions', () => {
  const before = snapshot()
  const context = hostileContext()
  const contextBefore = fingerprint(context)

  test('the corpus is large enough', () => {
    assert.ok(HOSTILE_CORPUS.length >= 60, `${HOSTILE_CORPUS.length} cases`)
    assert.equal(
      new Set(HOSTILE_CORPUS.map((c) => c.name)).size,
      HOSTILE_CORPUS.length,
      'case names are unique',
    )
  })

  for (const c of HOSTILE_CORPUS) {
    test(`${c.where === 'compile' ? 'refused' : 'fails'}: ${c.name}`, TIMEOUT, () => {
      let err: ExpressionError
      if (c.where === 'compile') {
        err = expressionError(() => compileExpression(c.expr))
      } else {
        const expression = compileExpression(c.expr)
        err = expressionError(() => expression.evaluate(context))
      }
      assert.equal(err.code, c.code, err.message)
      assert.match(err.message, c.message)
      assert.equal(err.expression, c.expr)
      assert.ok(err.message.length > 20, 'the message explains the problem')
    })
  }

  for (const { template, message } of HOSTILE_TEMPLATES) {
    test(`template refused: ${template}`, TIMEOUT, () => {
      const err = expressionError(() => compileTemplate({ payload: template }))
      assert.equal(err.code, 'HS_ERR_EXPR_PARSE')
      assert.equal(err.pointer, '/payload')
      assert.match(err.message, message)
    })
  }

  test('lookalike payloads that are valid CEL evaluate to harmless data', () => {
    assert.deepEqual(
      compileExpression('{"__proto__": {"polluted": true}, "constructor": 1, "a": 2}').evaluate(context),
      { a: 2 },
    )
    assert.equal(compileExpression('"constructor" in inputs').evaluate(context), false)
    assert.equal(compileExpression('"__proto__"').evaluate(context), '__proto__')
    assert.equal(compileTemplate('{{7*7}}').render(context), 49)
    assert.equal(compileTemplate('#{7*7} ${7*7} <%= 7*7 %>').render(context), '#{7*7} ${7*7} <%= 7*7 %>')
  })

  test('ReDoS patterns run in linear time and give the right answer', TIMEOUT, () => {
    const ctx = { evil: `${'a'.repeat(50_000)}!` }
    assert.equal(
      compileExpression('"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!".matches("(a+)+$")').evaluate(ctx),
      false,
    )
    assert.equal(compileExpression('evil.matches("(a+)+$")').evaluate(ctx), false)
    assert.equal(compileExpression('evil.matches("^(a|a)*$")').evaluate(ctx), false)
    assert.equal(compileExpression('evil.matches("(a|aa)+b")').evaluate(ctx), false)
    assert.equal(compileExpression('evil.matches("^(a*)*a*a*a*a*!$")').evaluate(ctx), true)
    assert.equal(compileExpression('evil.matches(".*.*.*=.*")').evaluate(ctx), false)
  })

  test('no prototype or global changed and the context is intact', () => {
    assert.deepEqual(snapshot(), before)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(fingerprint(context), contextBefore)
  })
})

/** Data that looks like a template: rendering must return it literally, never evaluate it. */
const SECOND_ORDER_PAYLOADS: readonly string[] = [
  '{{ 7*7 }}',
  '{{7*7}}',
  '{{ secrets.token }}',
  '{{ inputs }}',
  '{{ process.env }}',
  '{{ this.constructor.constructor("return process")() }}',
  '{{ $jmespath($json, "a") }}',
  '{{ $json }}',
  '{{ steps.fetch.output }}',
  '{{ run.id }}',
  '{{ "{{" }}',
  '{{ {{ 1 }} }}',
  '{{',
  '}}',
  '{{ }}',
  '{{ inputs.name }} {{ inputs.name }}',
  'prefix {{ 1 + 1 }} suffix',
  '{{ "a" + "b" }}',
  "{{ 'x'.matches('(a+)+$') }}",
  '{{ l.map(a, l.map(b, a)) }}',
  '${7*7}',
  '${{ 7*7 }}',
  '#{7*7}',
  '<%= 7*7 %>',
  '{% for x in y %}{{ x }}{% endfor %}',
  "{{ ''.__class__.__mro__[1].__subclasses__() }}",
  '{{ config.items() }}',
  '{{ request.application.__globals__ }}',
  '{{#each items}}{{this}}{{/each}}',
  '{{= it.x }}',
  '{{{ raw }}}',
  '{{> partial }}',
  '[[ 7*7 ]]',
  '%{7*7}',
  '{{ inputs["__proto__"] }}',
  '{{ inputs.__proto__.polluted }}',
  '{{ "\\u0000" }}',
  '{{\n7*7\n}}',
  '{{ // comment }}',
  '{{ cel.bind(x, 1, x) }}',
  '{{ has(inputs.x) }}',
  '{{ event.data }}',
  '{{ trigger }}',
  '{{ item }}',
  '{{ index }}',
  '{{ vars.greeting }}',
  '{{ 9223372036854775807 + 1 }}',
  '{{ 1 / 0 }}',
  '{{ timestamp("2024-01-01T00:00:00Z") }}',
  'plain {{ text }} with "quotes" and \'single\' and }} {{',
]

describe('second-order injection', () => {
  const context = {
    inputs: { name: 'Ada', payloads: SECOND_ORDER_PAYLOADS },
    vars: { greeting: 'hi' },
    secrets: { token: 'SECRET' },
    run: { id: 'r-1' },
    l: [1, 2, 3],
  }
  const typed = compileTemplate('{{ inputs.payload }}')
  const interpolated = compileTemplate('before {{ inputs.payload }} after')
  const nested = compileTemplate({ list: ['{{ inputs.payload }}'], obj: { v: '{{ [inputs.payload] }}' } })

  test('50 payloads', () => {
    assert.equal(SECOND_ORDER_PAYLOADS.length, 50)
    assert.equal(new Set(SECOND_ORDER_PAYLOADS).size, 50)
  })

  for (const payload of SECOND_ORDER_PAYLOADS) {
    test(`rendered literally: ${JSON.stringify(payload)}`, TIMEOUT, () => {
      const ctx = { ...context, inputs: { ...context.inputs, payload } }
      assert.equal(typed.render(ctx), payload)
      assert.equal(interpolated.render(ctx), `before ${payload} after`)
      assert.deepEqual(nested.render(ctx), { list: [payload], obj: { v: [payload] } })
    })
  }

  test('a whole list of payloads passes through unchanged, and as JSON text', () => {
    assert.deepEqual(compileTemplate('{{ inputs.payloads }}').render(context), SECOND_ORDER_PAYLOADS)
    assert.equal(
      compileTemplate('{{ inputs.payloads }}!').render(context),
      `${JSON.stringify(SECOND_ORDER_PAYLOADS)}!`,
    )
  })
})
