/**
 * Hostile expressions, each with the error it must end in. `where: 'compile'` means compiling fails;
 * otherwise compiling succeeds and evaluating against `hostileContext()` fails.
 */
import type { ExpressionErrorCode } from '../../src/core/expr/index.ts'

export interface HostileCase {
  readonly name: string
  readonly expr: string
  readonly code: ExpressionErrorCode
  /** The message must match this (an informative message, not just the code). */
  readonly message: RegExp
  readonly where: 'compile' | 'evaluate'
}

class Instance {
  secret = 'host object'
}

/** A context with the host-ish values a careless engine might pass in. */
export function hostileContext(): Record<string, unknown> {
  const list1000 = Array.from({ length: 1000 }, (_, i) => i)
  return {
    inputs: {
      name: 'Ada',
      list: [1, 2, 3],
      key: '__proto__',
      ctorKey: 'constructor',
      fn: () => 'host',
      sym: Symbol('s'),
      instance: new Instance(),
      when: new Date('2024-01-01T00:00:00Z'),
      badPattern: '(a)\\1',
      longText: 'a'.repeat(200_000),
      withFn: { ok: 1, fn: () => 1 },
      tenKb: 'x'.repeat(10_000),
      huge: new Array<number>(600_000).fill(0),
    },
    l: list1000,
    s: 'x'.repeat(1000),
  }
}

const compile = (name: string, expr: string, code: ExpressionErrorCode, message: RegExp): HostileCase => ({
  name,
  expr,
  code,
  message,
  where: 'compile',
})
const run = (name: string, expr: string, code: ExpressionErrorCode, message: RegExp): HostileCase => ({
  name,
  expr,
  code,
  message,
  where: 'evaluate',
})

function nestedBinds(
  levels: number,
  seed: string,
  step: (prev: string) => string,
  body: (last: string) => string,
): string {
  let expr = body(`v${levels}`)
  for (let i = levels; i >= 1; i--) expr = `cel.bind(v${i}, ${i === 1 ? seed : step(`v${i - 1}`)}, ${expr})`
  return expr
}

const FORBIDDEN = /access to the key "(__proto__|constructor|prototype)" is not allowed/
const PARSE = /unexpected|reserved|expected/i

export const HOSTILE_CORPUS: readonly HostileCase[] = [
  // Property walks towards prototypes and constructors
  compile('constructor field', 'inputs.constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('__proto__ field', 'inputs.__proto__', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('prototype field', 'inputs.prototype', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('constructor.constructor', 'inputs.constructor.constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('bracket constructor', 'inputs["constructor"]', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('bracket __proto__', "inputs['__proto__']", 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('optional constructor', 'inputs.?constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('optional bracket __proto__', 'inputs[?"__proto__"]', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('list constructor', 'inputs.list.constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile(
    'timestamp __proto__',
    'timestamp("2024-01-01T00:00:00Z").__proto__',
    'HS_ERR_EXPR_PARSE',
    FORBIDDEN,
  ),
  compile('Date in context __proto__', 'inputs.when.__proto__.constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('duration prototype', 'duration("1s").prototype', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('has() on __proto__', 'has(inputs.__proto__)', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  compile('map literal constructor', '{}.constructor', 'HS_ERR_EXPR_PARSE', FORBIDDEN),
  run('computed constructor', 'inputs["con" + "structor"]', 'HS_ERR_EXPR_EVAL', FORBIDDEN),
  run('computed __proto__ from data', 'inputs[inputs.key]', 'HS_ERR_EXPR_EVAL', FORBIDDEN),
  run('computed key via dyn()', 'inputs[dyn(inputs.ctorKey)]', 'HS_ERR_EXPR_EVAL', FORBIDDEN),
  run('string constructor through dyn', 'dyn(inputs.name)[inputs.ctorKey]', 'HS_ERR_EXPR_EVAL', FORBIDDEN),
  compile('string literal toString', '"".toString', 'HS_ERR_EXPR_PARSE', /cannot index type 'string'/),
  compile(
    'string method call',
    '"".toString()',
    'HS_ERR_EXPR_PARSE',
    /no matching overload for 'string\.toString\(\)'/,
  ),
  compile('list length', '[].length', 'HS_ERR_EXPR_PARSE', /list index must be int/),
  run('dyn string field', 'inputs.name.length', 'HS_ERR_EXPR_EVAL', /no such key: length/),
  compile('null field', 'null.x', 'HS_ERR_EXPR_PARSE', /cannot index type 'null'/),

  // Host globals
  run('process', 'process', 'HS_ERR_EXPR_EVAL', /unknown variable: process; the context has/),
  run('process.env', 'process.env.HOME', 'HS_ERR_EXPR_EVAL', /unknown variable: process/),
  run(
    'process.mainModule.require',
    'process.mainModule.require',
    'HS_ERR_EXPR_EVAL',
    /unknown variable: process/,
  ),
  run('globalThis', 'globalThis.process', 'HS_ERR_EXPR_EVAL', /unknown variable: globalThis/),
  run('this', 'this', 'HS_ERR_EXPR_EVAL', /unknown variable: this/),
  run('bare constructor', 'constructor', 'HS_ERR_EXPR_EVAL', /unknown variable: constructor/),
  run('module', 'module.exports', 'HS_ERR_EXPR_EVAL', /unknown variable: module/),
  compile('bare __proto__', '__proto__', 'HS_ERR_EXPR_PARSE', /reserved identifier: __proto__/),
  compile('bare prototype', 'prototype.x', 'HS_ERR_EXPR_PARSE', /reserved identifier: prototype/),
  compile(
    'require()',
    'require("child_process")',
    'HS_ERR_EXPR_PARSE',
    /no matching overload for 'require\(string\)'/,
  ),
  compile('eval()', 'eval("1+1")', 'HS_ERR_EXPR_PARSE', /no matching overload for 'eval\(string\)'/),
  compile('Function()', 'Function("return this")', 'HS_ERR_EXPR_PARSE', /no matching overload/),
  compile('import()', 'import("fs")', 'HS_ERR_EXPR_PARSE', /reserved identifier: import/),
  compile('new Function', 'new Function("x")', 'HS_ERR_EXPR_PARSE', PARSE),
  compile(
    'this.constructor.constructor(...)()',
    'this.constructor.constructor("return process")()',
    'HS_ERR_EXPR_PARSE',
    PARSE,
  ),
  compile('arrow function', '(() => process)()', 'HS_ERR_EXPR_PARSE', PARSE),
  compile('function keyword', 'function(){ return 1 }', 'HS_ERR_EXPR_PARSE', PARSE),
  compile('assignment', 'inputs.name = "x"', 'HS_ERR_EXPR_PARSE', PARSE),
  compile('statement separator', 'inputs.name; process.exit(1)', 'HS_ERR_EXPR_PARSE', PARSE),
  compile('method on data', 'inputs.fn()', 'HS_ERR_EXPR_PARSE', /no matching overload for 'dyn\.fn\(\)'/),
  compile(
    'method chain on data',
    'inputs.withFn.fn.call(inputs)',
    'HS_ERR_EXPR_PARSE',
    /no matching overload/,
  ),

  // Payloads from template-injection CVEs (n8n, Jinja, SpEL, JS template literals)
  compile('n8n $jmespath', '$jmespath($json, "a")', 'HS_ERR_EXPR_PARSE', /unexpected character: \$/),
  compile(
    'n8n $json walk',
    '$json.constructor.constructor("return process")()',
    'HS_ERR_EXPR_PARSE',
    /unexpected character: \$/,
  ),
  compile(
    'n8n this walk',
    'this.process.mainModule.require("child_process").execSync("id")',
    'HS_ERR_EXPR_PARSE',
    /no matching overload/,
  ),
  compile('template literal', '`${process.env}`', 'HS_ERR_EXPR_PARSE', /unexpected character: `/),
  compile('dollar brace', '${7*7}', 'HS_ERR_EXPR_PARSE', /unexpected character: \$/),
  compile(
    'SpEL',
    "#{T(java.lang.Runtime).getRuntime().exec('id')}",
    'HS_ERR_EXPR_PARSE',
    /unexpected character: #/,
  ),
  compile(
    'Jinja __class__ on string',
    "''.__class__.__mro__[1].__subclasses__()",
    'HS_ERR_EXPR_PARSE',
    /cannot index type 'string'/,
  ),
  compile(
    'Jinja globals import',
    "request.application.__globals__.__builtins__.__import__('os').popen('id').read()",
    'HS_ERR_EXPR_PARSE',
    /no matching overload/,
  ),
  compile(
    'Jinja cycler',
    "cycler.__init__.__globals__.os.popen('id').read()",
    'HS_ERR_EXPR_PARSE',
    /no matching overload/,
  ),
  run('Jinja lipsum', 'lipsum.__globals__["os"]', 'HS_ERR_EXPR_EVAL', /unknown variable: lipsum/),
  run('Jinja class on data', 'inputs.name.__class__.__mro__', 'HS_ERR_EXPR_EVAL', /no such key: __class__/),
  compile('ERB', '<%= 7*7 %>', 'HS_ERR_EXPR_PARSE', PARSE),

  // Host values in the context
  run('function value', 'inputs.fn', 'HS_ERR_EXPR_EVAL', /unsupported type: function/),
  run('symbol value', 'inputs.sym', 'HS_ERR_EXPR_EVAL', /unsupported type: symbol/),
  run('class instance field', 'inputs.instance.secret', 'HS_ERR_EXPR_EVAL', /unsupported type: Instance/),
  run(
    'function inside the result',
    'inputs.withFn',
    'HS_ERR_EXPR_EVAL',
    /contains a function, which is not JSON data/,
  ),
  run('Date method', 'inputs.when.toISOString', 'HS_ERR_EXPR_EVAL', /unsupported type: function/),
  run('CEL namespace object', 'cel', 'HS_ERR_EXPR_EVAL', /not JSON data/),

  // Structural limits
  compile('9 KB expression', `"${'a'.repeat(9000)}"`, 'HS_ERR_EXPR_LIMIT', /limit maxLength/),
  compile(
    '10k parentheses',
    `${'('.repeat(10_000)}1${')'.repeat(10_000)}`,
    'HS_ERR_EXPR_LIMIT',
    /limit maxLength/,
  ),
  compile(
    '4000 parentheses',
    `${'('.repeat(4000)}1${')'.repeat(4000)}`,
    'HS_ERR_EXPR_LIMIT',
    /limit maxDepth/,
  ),
  compile('nested lists', `${'['.repeat(100)}${']'.repeat(100)}`, 'HS_ERR_EXPR_LIMIT', /limit maxDepth/),
  compile('8000 negations', `${'!'.repeat(8000)}true`, 'HS_ERR_EXPR_LIMIT', /limit maxAstDepth/),
  compile('8000 minus signs', `${'-'.repeat(8000)}1`, 'HS_ERR_EXPR_LIMIT', /limit maxAstDepth/),
  compile('2000 additions', `1${'+1'.repeat(2000)}`, 'HS_ERR_EXPR_LIMIT', /limit maxAstDepth/),
  compile('member chain', `inputs${'.a'.repeat(100)}`, 'HS_ERR_EXPR_LIMIT', /limit maxDepth/),
  compile('huge list literal', `[${'1,'.repeat(1500)}1]`, 'HS_ERR_EXPR_LIMIT', /limit maxListLiteral/),
  compile(
    'huge map literal',
    `{${Array.from({ length: 1100 }, (_, i) => `${i}:1`).join(',')}}`,
    'HS_ERR_EXPR_LIMIT',
    /limit maxMapLiteral/,
  ),
  compile('too many arguments', `max(${'1,'.repeat(40)}1)`, 'HS_ERR_EXPR_LIMIT', /limit maxCallArguments/),
  compile(
    '4 nested comprehensions',
    'l.exists(a, l.exists(b, l.exists(c, l.exists(d, a+b+c+d == -1))))',
    'HS_ERR_EXPR_LIMIT',
    /limit maxComprehensionNesting/,
  ),

  // Evaluation budget
  run(
    'triple nested map on 1000 items',
    'l.map(a, l.map(b, l.map(c, a + b + c)))',
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run(
    'triple nested exists on 1000 items',
    'l.exists(a, l.exists(b, l.exists(c, a + b + c < 0)))',
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run(
    'budget errors are not absorbed by ||',
    'l.all(a, l.all(b, a + b >= 0)) || true',
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run(
    'budget errors are not absorbed by &&',
    'false && l.exists(a, true) || l.exists(a, l.exists(b, a == b + 5000)) && false',
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run(
    'quadratic filter',
    'l.filter(a, l.filter(b, a == b).size() > 0)',
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run(
    'string doubling',
    nestedBinds(
      14,
      's',
      (p) => `${p} + ${p}`,
      (v) => `size(${v})`,
    ),
    'HS_ERR_EXPR_BUDGET',
    /limit maxStringLength/,
  ),
  run(
    'string doubling in a comprehension',
    nestedBinds(
      6,
      'inputs.tenKb',
      (p) => `${p} + ${p}`,
      (v) => `l.map(x, ${v} + ${v}).size()`,
    ),
    'HS_ERR_EXPR_BUDGET',
    /evaluation budget exceeded/,
  ),
  run('join of copies', 'l.map(x, inputs.tenKb).join()', 'HS_ERR_EXPR_BUDGET', /limit maxStringLength/),
  run(
    'nested join',
    'l.map(x, l.map(y, s).join()).join()',
    'HS_ERR_EXPR_BUDGET',
    /limit maxStringLength|evaluation budget/,
  ),
  run(
    'list doubling',
    nestedBinds(
      9,
      'l',
      (p) => `${p} + ${p}`,
      (v) => `size(${v})`,
    ),
    'HS_ERR_EXPR_BUDGET',
    /limit maxListLength/,
  ),
  run(
    'shared-list result blow-up',
    nestedBinds(
      24,
      '[1]',
      (p) => `[${p}, ${p}]`,
      (v) => v,
    ),
    'HS_ERR_EXPR_BUDGET',
    /limit maxResultValues/,
  ),
  run(
    'shared-list equality blow-up',
    `cel.bind(x, ${nestedBinds(
      22,
      '[1]',
      (p) => `[${p}, ${p}]`,
      (v) => v,
    )}, cel.bind(y, ${nestedBinds(
      22,
      '[1]',
      (p) => `[${p}, ${p}]`,
      (v) => v,
    )}, x == y))`,
    'HS_ERR_EXPR_BUDGET',
    /too large for the evaluation budget/,
  ),
  run(
    'membership blow-up',
    `cel.bind(x, ${nestedBinds(
      20,
      '[1]',
      (p) => `[${p}, ${p}]`,
      (v) => v,
    )}, x in [l, l, l, x])`,
    'HS_ERR_EXPR_BUDGET',
    /too large for the evaluation budget/,
  ),
  run(
    'comprehension over a huge list',
    'inputs.huge.exists(x, x < 0)',
    'HS_ERR_EXPR_BUDGET',
    /limit maxComprehensionItems/,
  ),

  // Regular expressions
  compile('backreference', '"aa".matches("(a)\\\\1")', 'HS_ERR_EXPR_PARSE', /backreferences, lookaround/),
  compile('lookahead', '"ab".matches("a(?=b)")', 'HS_ERR_EXPR_PARSE', /backreferences, lookaround/),
  compile(
    'named backreference',
    '"aa".matches("(?<x>a)\\\\k<x>")',
    'HS_ERR_EXPR_PARSE',
    /backreferences, lookaround/,
  ),
  compile('invalid pattern', '"a".matches("(")', 'HS_ERR_EXPR_PARSE', /not a valid regular expression/),
  compile('huge pattern', `"a".matches("${'a|'.repeat(300)}a")`, 'HS_ERR_EXPR_LIMIT', /limit maxRegexLength/),
  run(
    'backreference from data',
    'inputs.name.matches(inputs.badPattern)',
    'HS_ERR_EXPR_EVAL',
    /backreferences, lookaround/,
  ),
  run(
    'matches on a huge input',
    'inputs.longText.matches("(a+)+$")',
    'HS_ERR_EXPR_BUDGET',
    /matches\(\) input is 200000 characters/,
  ),
  run(
    'matches on a non-string',
    'inputs.list.matches("a")',
    'HS_ERR_EXPR_EVAL',
    /matches\(\) needs a string/,
  ),

  // Arithmetic and conversions
  run('int overflow', '9223372036854775807 + 1', 'HS_ERR_EXPR_EVAL', /integer overflow/),
  run('division by zero', '1 / 0', 'HS_ERR_EXPR_EVAL', /division by zero/),
  run('infinity result', '1.0 / 0.0', 'HS_ERR_EXPR_EVAL', /Infinity, which is not JSON data/),
  run('NaN result', 'double("nan")', 'HS_ERR_EXPR_EVAL', /NaN, which is not JSON data/),
  run('int() of a huge string', 'int("99999999999999999999")', 'HS_ERR_EXPR_EVAL', /cannot convert to int/),
  run('bogus time zone', 'inputs.when.getHours("../../etc/passwd")', 'HS_ERR_EXPR_EVAL', /time zone/i),
  run('type confusion', 'inputs.name + 1', 'HS_ERR_EXPR_EVAL', /no such overload/),
  run('index out of range', 'inputs.list[10]', 'HS_ERR_EXPR_EVAL', /index out of bounds/),
  compile('unterminated string', '"abc', 'HS_ERR_EXPR_PARSE', /unterminated string/),
  compile('empty', '', 'HS_ERR_EXPR_PARSE', /empty/),
]

/** Template strings (as written in a workflow) that must not compile. */
export const HOSTILE_TEMPLATES: ReadonlyArray<{ readonly template: string; readonly message: RegExp }> = [
  { template: '{{ $jmespath($json, "a") }}', message: /unexpected character: \$/ },
  { template: 'x {{ this.constructor.constructor("return process")() }}', message: PARSE },
  { template: "{{ constructor.constructor('alert(1)')() }}", message: PARSE },
  { template: '{{ inputs.__proto__.polluted }}', message: FORBIDDEN },
  { template: "{{ ''.__class__.__mro__[1] }}", message: /cannot index type 'string'/ },
  { template: '{{ ${process.env} }}', message: /unexpected character: \$/ },
  { template: '{{ inputs.name }', message: /not closed/ },
  { template: '{{ "unterminated }}', message: /unterminated string/ },
  { template: '{{}}', message: /empty/ },
]
