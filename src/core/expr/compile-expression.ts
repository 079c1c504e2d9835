/**
 * Compiling a CEL expression once (parse, structural limits, type check, budget hooks) and evaluating
 * it many times. Compiled expressions are memoised by source in a bounded LRU, so the same condition
 * in many workflow versions is parsed once.
 */
import { parseCel, type CelProgram } from './cel-environment.ts'
import { ExpressionError, type ExpressionErrorCode } from './expression-error.ts'
import {
  inspectAst,
  rootVariables,
  variableUses,
  type RootVariable,
  type VariableUse,
} from './ast-inspection.ts'
import { instrumentAst } from './budget-hooks.ts'
import { EXPRESSION_LIMITS } from './limits.ts'
import { LruCache } from './lru-cache.ts'
import { meterStart, meterStop } from './meter.ts'
import { toJson } from './to-json.ts'

/** The variables an expression reads (`inputs`, `vars`, `steps`, `run`, `trigger`, `event`, `item`, `index`, ...). */
export type ExprContext = Readonly<Record<string, unknown>>

/** A compiled CEL expression. */
export interface Expression {
  /** The source it was compiled from. */
  readonly source: string
  /** The context variables it reads, and which members (`secrets.NAME`): see `VariableUse`. */
  readonly uses: readonly VariableUse[]
  /**
   * Evaluates against `ctx` (never modified) and returns plain JSON data (see `to-json.ts`).
   * Throws `ExpressionError` with `HS_ERR_EXPR_EVAL` or `HS_ERR_EXPR_BUDGET`.
   */
  evaluate(ctx: ExprContext): unknown
}

const memo = new LruCache<string, Expression>(EXPRESSION_LIMITS.memoSize)

/**
 * Compiles a CEL expression once (memoised by source in a bounded LRU of `EXPRESSION_LIMITS.memoSize`
 * entries). Throws `ExpressionError`: `HS_ERR_EXPR_PARSE` (syntax or static type error) or
 * `HS_ERR_EXPR_LIMIT` (over a structural limit), with `offset` and `expression` set.
 */
export function compileExpression(source: string): Expression {
  if (typeof source !== 'string') {
    throw new ExpressionError(
      'HS_ERR_EXPR_PARSE',
      `an expression must be a string, got ${source === null ? 'null' : typeof source}`,
    )
  }
  const cached = memo.get(source)
  if (cached !== undefined) return cached
  const compiled = build(source)
  memo.set(source, compiled)
  return compiled
}

function build(source: string): Expression {
  if (source.length > EXPRESSION_LIMITS.maxLength) {
    throw new ExpressionError(
      'HS_ERR_EXPR_LIMIT',
      `expression is ${source.length} characters long; the limit is ${EXPRESSION_LIMITS.maxLength} (limit maxLength)`,
      { expression: source, offset: EXPRESSION_LIMITS.maxLength },
    )
  }
  if (source.trim() === '')
    throw new ExpressionError('HS_ERR_EXPR_PARSE', 'the expression is empty', {
      expression: source,
      offset: 0,
    })
  let program: CelProgram
  let roots: RootVariable[]
  let uses: VariableUse[]
  try {
    program = parseCel(source)
    const nodes = inspectAst(program.ast)
    const checked = program.check()
    if (!checked.valid) throw checked.error
    instrumentAst(nodes)
    roots = rootVariables(nodes)
    uses = variableUses(nodes)
  } catch (err) {
    throw translate(err, source, undefined)
  }
  return Object.freeze({
    source,
    uses: Object.freeze(uses),
    evaluate: (ctx: ExprContext) => evaluateProgram(program, roots, source, ctx),
  })
}

function evaluateProgram(
  program: CelProgram,
  roots: readonly RootVariable[],
  source: string,
  ctx: ExprContext,
): unknown {
  if (ctx === null || typeof ctx !== 'object') {
    throw new ExpressionError('HS_ERR_EXPR_EVAL', 'the evaluation context must be an object', {
      expression: source,
    })
  }
  // The library reads variables with `ctx[name]`, which would find inherited members such as
  // `constructor` or `toString`: only own properties are variables.
  for (const root of roots) {
    if (root.name in ctx && !Object.hasOwn(ctx, root.name)) {
      throw new ExpressionError('HS_ERR_EXPR_EVAL', unknownVariable(root.name, ctx), {
        expression: source,
        offset: root.offset,
      })
    }
  }
  let result: unknown
  let thrown: unknown
  let failed = false
  meterStart()
  try {
    result = program(ctx)
  } catch (err) {
    failed = true
    thrown = err
  }
  const budgetFailure = meterStop()
  if (budgetFailure !== undefined) throw budgetFailure.locate({ expression: source })
  if (failed) throw translate(thrown, source, ctx)
  try {
    return toJson(result)
  } catch (err) {
    throw translate(err, source, ctx)
  }
}

/** The members of the library's errors used here. */
interface CelError {
  readonly name: string
  readonly code: string
  readonly summary: string
  readonly range?: { readonly start: number }
}

function isCelError(err: unknown): err is CelError {
  return (
    err instanceof Error &&
    typeof (err as Partial<CelError>).code === 'string' &&
    typeof (err as Partial<CelError>).summary === 'string'
  )
}

/** Turns anything thrown while compiling (`ctx` undefined) or evaluating into an `ExpressionError`. */
function translate(err: unknown, source: string, ctx: ExprContext | undefined): ExpressionError {
  if (err instanceof ExpressionError) return err.locate({ expression: source })
  const location = { expression: source, offset: undefined as number | undefined }
  if (isCelError(err)) {
    location.offset = err.range?.start
    let code: ExpressionErrorCode = ctx === undefined ? 'HS_ERR_EXPR_PARSE' : 'HS_ERR_EXPR_EVAL'
    if (err.code === 'limit_exceeded') code = 'HS_ERR_EXPR_LIMIT'
    return new ExpressionError(code, explain(err, ctx), location, { cause: err })
  }
  if (
    err instanceof RangeError &&
    /call stack|string length|array length|allocation failed/i.test(err.message)
  ) {
    return new ExpressionError(
      'HS_ERR_EXPR_BUDGET',
      `expression needs too much memory or recursion (${err.message})`,
      location,
      { cause: err },
    )
  }
  const message = err instanceof Error ? err.message : String(err)
  return new ExpressionError(
    ctx === undefined ? 'HS_ERR_EXPR_PARSE' : 'HS_ERR_EXPR_EVAL',
    message,
    location,
    { cause: err },
  )
}

const LIMIT_NAMES: Readonly<Record<string, string>> = {
  maxAstNodes: 'the expression has too many parts',
  maxDepth: 'the expression is nested too deeply',
  maxListElements: 'a list literal has too many elements',
  maxMapEntries: 'a map literal has too many entries',
  maxCallArguments: 'a function call has too many arguments',
}

function unknownVariable(name: string, ctx: ExprContext): string {
  const names = Object.keys(ctx)
  return `unknown variable: ${name}; the context has ${names.length === 0 ? 'no variables' : names.join(', ')}`
}

/** The library's message, lower-cased, with the hint a workflow author needs. */
function explain(err: CelError, ctx: ExprContext | undefined): string {
  const summary = err.summary.charAt(0).toLowerCase() + err.summary.slice(1)
  switch (err.code) {
    case 'limit_exceeded': {
      const [, name = '', limit = '?'] = /Exceeded (\w+) \((\d+)\)/.exec(err.summary) ?? []
      const ours =
        name === 'maxListElements' ? 'maxListLiteral' : name === 'maxMapEntries' ? 'maxMapLiteral' : name
      return `${LIMIT_NAMES[name] ?? 'the expression is over a limit'}: more than ${limit} (limit ${ours})`
    }
    case 'no_such_key': {
      const key = summary.replace(/^no such key: /, '')
      return /index out of bounds/.test(summary)
        ? summary
        : `${summary}; test for it with has(x.${key}) or give a default with x.?${key}.orValue(...)`
    }
    case 'unknown_variable':
      return ctx === undefined ? summary : unknownVariable(summary.replace(/^unknown variable: /, ''), ctx)
    case 'unsupported_type':
      return `${summary}: expressions read JSON data only (numbers, strings, booleans, null, lists, maps), and not maps with a "constructor" key`
    case 'reserved_identifier':
      return `${summary} is reserved and cannot be used`
    default:
      return ctx === undefined && err.name === 'TypeError' ? `type error: ${summary}` : summary
  }
}
