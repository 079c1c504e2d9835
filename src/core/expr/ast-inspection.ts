/**
 * Static checks on a parsed expression, walking the AST without recursion so any parse result is safe
 * to inspect (the parser's own depth limit does not count chains like `!!!x` or `a + b + ...`):
 * `maxAstDepth`, `maxComprehensionNesting`, literal `matches()` patterns, and forbidden keys
 * (`__proto__`, `constructor`, `prototype`) in field names and literal indexes. Also lists the context
 * variables an expression reads.
 */
import { isCelNode, type CelNode, type ComprehensionArgs, type ReceiverCallArgs } from './cel-environment.ts'
import { ExpressionError } from './expression-error.ts'
import { EXPRESSION_LIMITS } from './limits.ts'
import { compileSafeRegex } from './safe-regex.ts'

/** Node children that are evaluated: a macro's expansion or object, else the node's arguments. */
function childrenOf(node: CelNode): CelNode[] {
  const found: CelNode[] = []
  const collect = (value: unknown, level: number): void => {
    if (isCelNode(value)) found.push(value)
    else if (level > 2 || value === null || typeof value !== 'object') return
    else if (Array.isArray(value)) for (const item of value) collect(item, level + 1)
    else if (Object.getPrototypeOf(value) === Object.prototype)
      for (const item of Object.values(value)) collect(item, level + 1)
  }
  const { alternate, macro } = node.meta
  if (alternate !== undefined) collect(alternate, 0)
  else if (macro !== undefined) collect(macro, 0)
  else collect(node.args, 0)
  return found
}

/**
 * Enforces the structural limits that need the whole tree and returns its nodes. Throws
 * `HS_ERR_EXPR_LIMIT` (depth, nesting) or `HS_ERR_EXPR_PARSE` (unusable literal regex).
 */
export function inspectAst(root: CelNode): CelNode[] {
  const nodes: CelNode[] = []
  const seen = new Set<CelNode>()
  const stack: Array<{ node: CelNode; depth: number; nesting: number }> = [
    { node: root, depth: 1, nesting: 0 },
  ]
  const { maxAstDepth, maxComprehensionNesting } = EXPRESSION_LIMITS
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const { node, depth, nesting } = entry
    if (seen.has(node)) continue
    seen.add(node)
    nodes.push(node)
    if (depth > maxAstDepth) {
      throw new ExpressionError(
        'HS_ERR_EXPR_LIMIT',
        `expression is nested too deeply: more than ${maxAstDepth} levels (limit maxAstDepth)`,
        {
          offset: node.start,
        },
      )
    }
    if (node.op === 'comprehension') {
      const args = node.args as ComprehensionArgs
      if (nesting + 1 > maxComprehensionNesting) {
        throw new ExpressionError(
          'HS_ERR_EXPR_LIMIT',
          `too many nested comprehensions: more than ${maxComprehensionNesting} of map/filter/all/exists/exists_one inside each other (limit maxComprehensionNesting)`,
          { offset: node.start },
        )
      }
      stack.push(
        { node: args.iterable, depth: depth + 1, nesting },
        { node: args.init, depth: depth + 1, nesting },
      )
      stack.push({ node: args.step, depth: depth + 1, nesting: nesting + 1 })
      continue
    }
    if (isMatchesCall(node)) checkLiteralPattern(node)
    checkStaticKey(node)
    for (const child of childrenOf(node)) stack.push({ node: child, depth: depth + 1, nesting })
  }
  return nodes
}

/**
 * Keys that lead from data to the host's prototypes and constructors. Plain data never needs them
 * (cel-js reads own properties only, and cannot read maps that have a `constructor` key), but CEL's
 * timestamp and duration values are class instances whose inherited `__proto__` would be reachable.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** The message for a forbidden key. */
export function forbiddenKey(key: string): string {
  return `access to the key "${key}" is not allowed`
}

/** A field name or literal index that is a forbidden key: `HS_ERR_EXPR_PARSE`. */
function checkStaticKey(node: CelNode): void {
  let key: unknown
  if (node.op === '.' || node.op === '.?') key = (node.args as readonly [CelNode, string])[1]
  else if (node.op === '[]' || node.op === '[?]') {
    const index = (node.args as readonly [CelNode, CelNode])[1]
    if (index.op === 'value') key = index.args
  }
  if (typeof key === 'string' && FORBIDDEN_KEYS.has(key))
    throw new ExpressionError('HS_ERR_EXPR_PARSE', forbiddenKey(key), { offset: node.start })
}

/** A `receiver.matches(pattern)` call (not a macro). */
export function isMatchesCall(node: CelNode): boolean {
  if (node.op !== 'rcall' || node.meta.alternate !== undefined || node.meta.macro !== undefined) return false
  const [name, , args] = node.args as ReceiverCallArgs
  return name === 'matches' && args.length === 1
}

function checkLiteralPattern(node: CelNode): void {
  const pattern = (node.args as ReceiverCallArgs)[2][0]
  if (pattern === undefined || pattern.op !== 'value' || typeof pattern.args !== 'string') return
  if (pattern.args.length > EXPRESSION_LIMITS.maxRegexLength) {
    throw new ExpressionError(
      'HS_ERR_EXPR_LIMIT',
      `matches() pattern is ${pattern.args.length} characters long; the limit is ${EXPRESSION_LIMITS.maxRegexLength} (limit maxRegexLength)`,
      { offset: pattern.start },
    )
  }
  const compiled = compileSafeRegex(pattern.args)
  if (typeof compiled === 'string')
    throw new ExpressionError('HS_ERR_EXPR_PARSE', compiled, { offset: pattern.start })
}

/** A variable the expression reads from the context, and where. */
export interface RootVariable {
  readonly name: string
  readonly offset: number
}

/**
 * The context variables an expression reads: identifiers that are not CEL constants (`int`, `cel`,
 * ...: the type checker gave them a value) nor bound inside the expression (comprehension variables,
 * `cel.bind`). Call after type checking.
 */
export function rootVariables(nodes: readonly CelNode[]): RootVariable[] {
  const bound = new Set<string>()
  for (const node of nodes) {
    if (node.op === 'comprehension') bound.add((node.args as ComprehensionArgs).iterVarName)
    const bindVar = (node.meta.macro as { var?: unknown } | undefined)?.var
    if (typeof bindVar === 'string') bound.add(bindVar)
  }
  const roots = new Map<string, RootVariable>()
  for (const node of nodes) {
    if (node.op !== 'id' || node.meta.alternate !== undefined || typeof node.args !== 'string') continue
    if (!bound.has(node.args) && !roots.has(node.args))
      roots.set(node.args, { name: node.args, offset: node.start })
  }
  return [...roots.values()]
}

/**
 * How an expression uses one context variable: the member names it reads with a static name
 * (`secrets.API_KEY`, `secrets["API_KEY"]`, `secrets.?API_KEY`), and whether it also uses the
 * variable another way (whole, or with a computed key). `offset` is where the first such other use
 * starts, else the first use.
 */
export interface VariableUse {
  readonly name: string
  readonly offset: number
  readonly members: readonly string[]
  readonly whole: boolean
}

/** The variables an expression reads and how (see `VariableUse`), in order of first appearance. */
export function variableUses(nodes: readonly CelNode[]): VariableUse[] {
  const roots = new Set(rootVariables(nodes).map((r) => r.name))
  const covered = new Set<CelNode>()
  const found = new Map<string, { offset: number; members: string[]; whole: boolean; wholeAt: number }>()
  const entry = (name: string, offset: number) => {
    let e = found.get(name)
    if (!e) found.set(name, (e = { offset, members: [], whole: false, wholeAt: Infinity }))
    e.offset = Math.min(e.offset, offset)
    return e
  }
  const isRoot = (node: unknown): node is CelNode =>
    isCelNode(node) &&
    node.op === 'id' &&
    node.meta.alternate === undefined &&
    typeof node.args === 'string' &&
    roots.has(node.args)
  for (const node of nodes) {
    let target: unknown
    let member: unknown
    if (node.op === '.' || node.op === '.?') [target, member] = node.args as readonly [CelNode, string]
    else if (node.op === '[]' || node.op === '[?]') {
      const [t, index] = node.args as readonly [CelNode, CelNode]
      target = t
      if (index.op === 'value') member = index.args
    }
    if (!isRoot(target) || typeof member !== 'string') continue
    covered.add(target)
    const e = entry(target.args as string, target.start)
    if (!e.members.includes(member)) e.members.push(member)
  }
  for (const node of nodes) {
    if (!isRoot(node)) continue
    const e = entry(node.args as string, node.start)
    if (!covered.has(node)) {
      e.whole = true
      e.wholeAt = Math.min(e.wholeAt, node.start)
    }
  }
  return [...found]
    .map(([name, e]) => ({
      name,
      offset: e.whole ? e.wholeAt : e.offset,
      members: e.members,
      whole: e.whole,
    }))
    .sort((a, b) => a.offset - b.offset)
}
