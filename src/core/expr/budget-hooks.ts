/**
 * The run-time budget hooks. After type checking (when the library has chosen each node's evaluate
 * function) `instrumentAst` replaces the evaluate function of the few nodes that can do unbounded work:
 * - comprehensions (`map`, `filter`, `all`, `exists`, `exists_one`): the input size is capped and each
 *   iteration costs one operation;
 * - `+` and function calls: strings and lists they build are capped and charged by size;
 * - `==`, `!=` and `in`: comparing aggregates is charged by the values compared;
 * - `matches()`: replaced by the linear-time implementation of `safe-regex.ts`;
 * - computed indexes `x[k]`: `k` may not be `__proto__`, `constructor` or `prototype` (literal keys
 *   and field names are refused at compile time by `ast-inspection.ts`).
 */
import { FORBIDDEN_KEYS, forbiddenKey, isMatchesCall } from './ast-inspection.ts'
import type {
  CelEvaluate,
  CelNode,
  CheckedBinaryNode,
  CheckedComprehensionNode,
  ComprehensionArgs,
  ReceiverCallArgs,
} from './cel-environment.ts'
import { ExpressionError } from './expression-error.ts'
import { EXPRESSION_LIMITS } from './limits.ts'
import { charge, failBudget, remainingOperations } from './meter.ts'
import { compileSafeRegex, testSafeRegex } from './safe-regex.ts'

/** Installs the budget hooks on type-checked nodes (the list `inspectAst` returned). */
export function instrumentAst(nodes: readonly CelNode[]): void {
  for (const node of nodes) {
    const { alternate, macro, evaluate } = node.meta
    if (alternate !== undefined || macro !== undefined) continue
    switch (node.op) {
      case 'comprehension':
        node.setMeta('evaluate', meteredComprehension(node.start))
        ;(node.args as ComprehensionArgs).step.setMeta(
          'evaluate',
          meteredStep((node.args as ComprehensionArgs).step),
        )
        break
      case '+':
        node.setMeta('evaluate', sizeGuard(evaluate, node.start, true))
        break
      case 'call':
        node.setMeta('evaluate', sizeGuard(evaluate, node.start, false))
        break
      case 'rcall': {
        const name = (node.args as ReceiverCallArgs)[0]
        node.setMeta(
          'evaluate',
          isMatchesCall(node) ? safeMatches : sizeGuard(evaluate, node.start, name === 'split'),
        )
        break
      }
      case '==':
      case '!=':
        node.setMeta('evaluate', meteredEquality)
        break
      case 'in':
        node.setMeta('evaluate', meteredMembership)
        break
      case '[]':
      case '[?]':
        if ((node.args as readonly [CelNode, CelNode])[1].op !== 'value')
          node.setMeta('evaluate', guardedIndex)
        break
    }
  }
}

function meteredStep(step: CelNode): CelEvaluate {
  const inner = step.meta.evaluate
  const at = step.start
  return (ev, node, ctx) => {
    charge(1, at)
    return inner(ev, node, ctx)
  }
}

function meteredComprehension(at: number): CelEvaluate {
  return (ev, node, ctx) => {
    const { args, handle } = node as CheckedComprehensionNode
    charge(1, at)
    const items = ev.run(args.iterable, ctx)
    const count = Array.isArray(items)
      ? items.length
      : items instanceof Map || items instanceof Set
        ? items.size
        : 0
    if (count > EXPRESSION_LIMITS.maxComprehensionItems) {
      failBudget(
        `comprehension over ${count} items; the limit is ${EXPRESSION_LIMITS.maxComprehensionItems} (limit maxComprehensionItems)`,
        at,
      )
    }
    const result = handle(items, args, ev, ctx)
    if (Array.isArray(result) && result.length > EXPRESSION_LIMITS.maxListLength)
      listTooLong(result.length, at)
    return result
  }
}

function listTooLong(length: number, at: number): never {
  return failBudget(
    `expression built a list of ${length} items; the limit is ${EXPRESSION_LIMITS.maxListLength} (limit maxListLength)`,
    at,
  )
}

function stringTooLong(length: number, at: number): never {
  return failBudget(
    `expression built a string of ${length} characters; the limit is ${EXPRESSION_LIMITS.maxStringLength} (limit maxStringLength)`,
    at,
  )
}

/**
 * Caps and charges what `+` and function calls build: strings and byte strings (1 operation per KiB),
 * and, for `+` and `split()` (`listsToo`), lists (1 per 16 items). Other calls may return a list from
 * the context unchanged (`dyn(x)`, `opt.value()`), which costs nothing.
 */
function sizeGuard(inner: CelEvaluate, at: number, listsToo: boolean): CelEvaluate {
  return (ev, node, ctx) => {
    const result = inner(ev, node, ctx)
    if (typeof result === 'string') {
      if (result.length >= 1024) {
        if (result.length > EXPRESSION_LIMITS.maxStringLength) stringTooLong(result.length, at)
        charge(result.length >>> 10, at)
      }
    } else if (listsToo && Array.isArray(result)) {
      if (result.length > EXPRESSION_LIMITS.maxListLength) listTooLong(result.length, at)
      charge(result.length >>> 4, at)
    } else if (result instanceof Uint8Array && result.length >= 1024) {
      if (result.length > EXPRESSION_LIMITS.maxStringLength) stringTooLong(result.length, at)
      charge(result.length >>> 10, at)
    }
    return result
  }
}

function isAggregate(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array)
}

/** Counts the values in `root` (itself included, recursively), stopping once over `limit`. */
function countValues(root: unknown, limit: number): number {
  let count = 1
  const stack: object[] = isAggregate(root) ? [root] : []
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    const children: unknown[] = Array.isArray(value)
      ? value
      : value instanceof Map || value instanceof Set
        ? [...value.values()]
        : Object.values(value)
    count += children.length
    if (count > limit) return count
    for (const child of children) if (isAggregate(child)) stack.push(child)
  }
  return count
}

/** Charges a deep comparison touching `values` values (4 per operation). */
function chargeComparison(values: number, at: number): void {
  const budget = remainingOperations() * 4
  if (values > budget)
    failBudget('comparison of values too large for the evaluation budget (limit maxOperations)', at)
  charge(1 + (values >>> 2), at)
}

const meteredEquality: CelEvaluate = (ev, node, ctx) => {
  const { left, right, handle } = node as CheckedBinaryNode
  const l = ev.run(left, ctx)
  const r = ev.run(right, ctx)
  if (l !== r && isAggregate(l) && isAggregate(r)) {
    chargeComparison(countValues(l, remainingOperations() * 4 + 1), node.start)
  }
  return handle(l, r, node, ev)
}

const meteredMembership: CelEvaluate = (ev, node, ctx) => {
  const { left, right, handle } = node as CheckedBinaryNode
  const l = ev.run(left, ctx)
  const r = ev.run(right, ctx)
  const size = Array.isArray(r) ? r.length : r instanceof Set ? r.size : 0
  if (size > 0) {
    const each = isAggregate(l) ? countValues(l, remainingOperations() * 4 + 1) : 1
    chargeComparison(size * each, node.start)
  }
  return handle(l, r, node, ev)
}

const safeMatches: CelEvaluate = (ev, node, ctx) => {
  const [, receiver, [patternNode]] = node.args as ReceiverCallArgs
  const input = ev.run(receiver, ctx)
  const pattern = patternNode === undefined ? undefined : ev.run(patternNode, ctx)
  if (typeof input !== 'string' || typeof pattern !== 'string') {
    throw new ExpressionError(
      'HS_ERR_EXPR_EVAL',
      `matches() needs a string and a string pattern, got ${celTypeName(input)}.matches(${celTypeName(pattern)})`,
      {
        offset: node.start,
      },
    )
  }
  const regex = compileSafeRegex(pattern)
  if (typeof regex === 'string')
    throw new ExpressionError('HS_ERR_EXPR_EVAL', regex, { offset: patternNode?.start })
  return testSafeRegex(regex, input, node.start)
}

function celTypeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return 'double'
  if (typeof value === 'bigint') return 'int'
  if (Array.isArray(value)) return 'list'
  return typeof value === 'object' ? 'map' : typeof value
}

/** Computed indexes `x[k]` are checked when evaluated. */
const guardedIndex: CelEvaluate = (ev, node, ctx) => {
  const { left, right, handle } = node as CheckedBinaryNode
  const target = ev.run(left, ctx)
  const key = ev.run(right, ctx)
  if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
    throw new ExpressionError('HS_ERR_EXPR_EVAL', forbiddenKey(key), { offset: right.start })
  }
  return handle(target, key, node, ev)
}
