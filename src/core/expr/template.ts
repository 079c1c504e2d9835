/**
 * Templated values: any JSON value whose strings may contain `{{ CEL }}`.
 *
 * - A string that is exactly one `{{ expr }}` (whitespace around it allowed) renders to the typed
 *   value of `expr`: a number, boolean, list, map or null.
 * - Any other string with `{{ }}` renders to a string: each expression's value is inserted as text
 *   (strings as they are, numbers and booleans as JSON, null as the empty string, lists and maps as
 *   compact JSON).
 * - Strings without `{{`, and all object keys, are static: rendering returns them, and any subtree
 *   without templates, by identity, at no cost. Treat rendered values as read-only.
 *
 * Rendering never looks inside the values expressions return, so data that itself contains `{{ }}`
 * (from inputs, events or step outputs) stays literal text: there is no second-order evaluation.
 */
import type { VariableUse } from './ast-inspection.ts'
import { compileExpression, type ExprContext, type Expression } from './compile-expression.ts'
import { ExpressionError } from './expression-error.ts'
import { EXPRESSION_LIMITS } from './limits.ts'
import { scanTemplate, type TemplatePart } from './template-scanner.ts'

/** A compiled templated value. */
export interface Template {
  /** False when the value has no `{{ }}` anywhere: `render` then returns the original value. */
  readonly dynamic: boolean
  /** The context variables its expressions read, merged over every string (see `VariableUse`). */
  readonly uses: readonly VariableUse[]
  /** Renders against `ctx`; throws `ExpressionError` (with `pointer`) from the failing expression. */
  render(ctx: ExprContext): unknown
}

/** A variable use inside a templated value: the string's pointer and the offset in that string. */
export interface TemplateUse extends VariableUse {
  /** JSON pointer to the string inside the value (`""` for the value itself). */
  readonly pointer: string
}

/** One problem in a templated value, as reported to the workflow validator. */
export interface TemplateProblem {
  /** JSON pointer to the string inside the value (`""` for the value itself). */
  pointer: string
  /** What is wrong, without the location. */
  message: string
  /** `HS_ERR_EXPR_PARSE` or `HS_ERR_EXPR_LIMIT`. */
  code: string
  /** 0-based offset in `expression`, when known. */
  offset?: number
  /** The expression (text between `{{ }}`), or the whole string when it cannot be split. */
  expression?: string
}

type Node =
  | { readonly dynamic: false; readonly value: unknown }
  | { readonly dynamic: true; readonly render: (ctx: ExprContext) => unknown }

/** Collects problems instead of throwing when given an array. */
type Sink = TemplateProblem[] | undefined

const MAX_VALUE_DEPTH = 1000

function escapeToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1')
}

function report(sink: Sink, err: ExpressionError): void {
  if (sink === undefined) throw err
  const problem: TemplateProblem = { pointer: err.pointer ?? '', message: err.summary, code: err.code }
  if (err.offset !== undefined) problem.offset = err.offset
  if (err.expression !== undefined) problem.expression = err.expression
  sink.push(problem)
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function compileNode(value: unknown, pointer: string, depth: number, sink: Sink): Node {
  if (depth > MAX_VALUE_DEPTH) {
    report(
      sink,
      new ExpressionError(
        'HS_ERR_EXPR_LIMIT',
        `templated value is nested more than ${MAX_VALUE_DEPTH} levels deep`,
        { pointer },
      ),
    )
    return { dynamic: false, value }
  }
  if (typeof value === 'string')
    return value.includes('{{') ? compileString(value, pointer, sink) : { dynamic: false, value }
  if (typeof value !== 'object' || value === null) return { dynamic: false, value }
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, i) => compileNode(item, `${pointer}/${i}`, depth + 1, sink))
    if (!items.some((item) => item.dynamic)) return { dynamic: false, value }
    return {
      dynamic: true,
      render: (ctx) => items.map((item) => (item.dynamic ? item.render(ctx) : item.value)),
    }
  }
  if (!isPlainObject(value)) return { dynamic: false, value }
  const entries = Object.keys(value).map(
    (key) => [key, compileNode(value[key], `${pointer}/${escapeToken(key)}`, depth + 1, sink)] as const,
  )
  if (!entries.some(([, item]) => item.dynamic)) return { dynamic: false, value }
  return {
    dynamic: true,
    render: (ctx) => {
      const out: Record<string, unknown> = {}
      for (const [key, item] of entries) {
        const rendered = item.dynamic ? item.render(ctx) : item.value
        if (key === '__proto__')
          Object.defineProperty(out, key, {
            value: rendered,
            enumerable: true,
            writable: true,
            configurable: true,
          })
        else out[key] = rendered
      }
      return out
    },
  }
}

function compileString(template: string, pointer: string, sink: Sink): Node {
  const scanned = scanTemplate(template)
  if (!Array.isArray(scanned)) {
    report(
      sink,
      new ExpressionError('HS_ERR_EXPR_PARSE', scanned.message, {
        pointer,
        expression: template,
        offset: scanned.offset,
      }),
    )
    return { dynamic: false, value: template }
  }
  const exprParts = scanned.filter((part) => part.kind === 'expr')
  if (exprParts.length > EXPRESSION_LIMITS.maxTemplateExpressions) {
    const message = `string has ${exprParts.length} {{ }} expressions; the limit is ${EXPRESSION_LIMITS.maxTemplateExpressions} (limit maxTemplateExpressions)`
    report(sink, new ExpressionError('HS_ERR_EXPR_LIMIT', message, { pointer }))
    return { dynamic: false, value: template }
  }
  const expressions: Expression[] = []
  for (const part of exprParts) {
    try {
      expressions.push(compileExpression(part.source))
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err
      report(sink, err.locate({ pointer, expression: part.source }))
    }
  }
  if (expressions.length < exprParts.length) return { dynamic: false, value: template }
  const typed =
    exprParts.length === 1 && scanned.every((part) => part.kind === 'expr' || part.text.trim() === '')
  const [single] = expressions
  if (typed && single !== undefined)
    return { dynamic: true, render: (ctx) => evaluateAt(single, ctx, pointer) }
  return { dynamic: true, render: interpolation(scanned, expressions, pointer) }
}

function evaluateAt(expression: Expression, ctx: ExprContext, pointer: string): unknown {
  try {
    return expression.evaluate(ctx)
  } catch (err) {
    throw err instanceof ExpressionError ? err.locate({ pointer }) : err
  }
}

/** Text of a value inserted into a string: strings as-is, null as '', anything else as compact JSON. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  return JSON.stringify(value)
}

function interpolation(
  parts: readonly TemplatePart[],
  expressions: readonly Expression[],
  pointer: string,
): (ctx: ExprContext) => unknown {
  const texts: string[] = ['']
  for (const part of parts) {
    if (part.kind === 'text') texts[texts.length - 1] += part.text
    else texts.push('')
  }
  return (ctx) => {
    let out = texts[0] ?? ''
    for (let i = 0; i < expressions.length; i++) {
      out += asText(evaluateAt(expressions[i] as Expression, ctx, pointer)) + (texts[i + 1] ?? '')
      if (out.length > EXPRESSION_LIMITS.maxStringLength) {
        const message = `rendered string is longer than ${EXPRESSION_LIMITS.maxStringLength} characters (limit maxStringLength)`
        throw new ExpressionError('HS_ERR_EXPR_BUDGET', message, { pointer })
      }
    }
    return out
  }
}

/**
 * Compiles any JSON value: strings containing `{{ }}` anywhere inside objects and arrays become
 * templates. Throws `ExpressionError` (`HS_ERR_EXPR_PARSE` or `HS_ERR_EXPR_LIMIT`) with `pointer` set,
 * for the first bad string.
 */
export function compileTemplate(value: unknown): Template {
  const node = compileNode(value, '', 0, undefined)
  if (!node.dynamic) {
    const staticValue = node.value
    return Object.freeze({ dynamic: false, uses: [], render: () => staticValue })
  }
  return Object.freeze({ dynamic: true, uses: mergeUses(templateUses(value)), render: node.render })
}

function mergeUses(uses: readonly VariableUse[]): VariableUse[] {
  const byName = new Map<string, { name: string; offset: number; members: string[]; whole: boolean }>()
  for (const use of uses) {
    const e = byName.get(use.name)
    if (!e)
      byName.set(use.name, {
        name: use.name,
        offset: use.offset,
        members: [...use.members],
        whole: use.whole,
      })
    else {
      for (const m of use.members) if (!e.members.includes(m)) e.members.push(m)
      e.whole ||= use.whole
    }
  }
  return [...byName.values()]
}

/**
 * Every context variable the `{{ }}` expressions of a templated value read, per string, with the
 * offset of the use in that string (for file:line:column messages). Strings that do not compile are
 * left out (`templateProblems` reports them).
 */
export function templateUses(value: unknown): TemplateUse[] {
  const out: TemplateUse[] = []
  const visit = (v: unknown, pointer: string, depth: number): void => {
    if (depth > MAX_VALUE_DEPTH) return
    if (typeof v === 'string') {
      if (!v.includes('{{')) return
      const scanned = scanTemplate(v)
      if (!Array.isArray(scanned)) return
      for (const part of scanned) {
        if (part.kind !== 'expr') continue
        let expression: Expression
        try {
          expression = compileExpression(part.source)
        } catch {
          continue
        }
        for (const use of expression.uses) out.push({ ...use, offset: part.offset + use.offset, pointer })
      }
    } else if (Array.isArray(v)) v.forEach((item: unknown, i) => visit(item, `${pointer}/${i}`, depth + 1))
    else if (typeof v === 'object' && v !== null && isPlainObject(v))
      for (const key of Object.keys(v)) visit(v[key], `${pointer}/${escapeToken(key)}`, depth + 1)
  }
  visit(value, '', 0)
  return out
}

/** Every problem in a templated value at once (for the validator): `[]` when it compiles. */
export function templateProblems(value: unknown): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  compileNode(value, '', 0, problems)
  return problems
}
