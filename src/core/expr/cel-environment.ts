/**
 * The one CEL environment every expression is parsed in, and the few internals of
 * `@marcbachmann/cel-js` this module relies on (described here by the members used, nothing else
 * imports the library).
 *
 * Options: undeclared variables are `dyn` (the engine's context is plain JSON), list and map literals
 * may mix types (as JSON does), and optional chaining (`a.?b.orValue(x)`) is on.
 *
 * Numbers: JSON has one number type, so context numbers arrive as JS numbers, which CEL treats as
 * `double`, while literals like `1` are CEL `int` (BigInt). CEL already compares the two (`<`, `==`,
 * `in`); the overloads below add the arithmetic, so `inputs.count + 1` and `price * 2` work. Mixed
 * arithmetic is done in doubles, like JavaScript and JSON.
 */
import { Environment, Optional } from '@marcbachmann/cel-js'
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator'
import { EXPRESSION_LIMITS } from './limits.ts'

/** How a node is evaluated: the library's evaluator, the node itself, and the evaluation context. */
export type CelEvaluate = (ev: CelEvaluator, node: CelNode, ctx: unknown) => unknown

/** The evaluator handed to node evaluate functions. */
export interface CelEvaluator {
  run(node: CelNode, ctx: unknown): unknown
}

/** Per-node dispatch data: the evaluate function, or a macro expansion (`alternate`) or macro object. */
export interface CelNodeMeta {
  readonly evaluate: CelEvaluate
  readonly alternate?: CelNode
  readonly macro?: object
}

/** A parsed AST node of `@marcbachmann/cel-js` (only the members this module uses). */
export interface CelNode {
  readonly op: string
  readonly args: unknown
  /** 0-based start offset of the node in the source. */
  readonly start: number
  readonly meta: CelNodeMeta
  setMeta(key: 'evaluate', value: CelEvaluate): CelNode
}

/** Members the type checker sets on binary operator nodes. */
export interface CheckedBinaryNode extends CelNode {
  readonly left: CelNode
  readonly right: CelNode
  readonly handle: (left: unknown, right: unknown, node: CelNode, ev: CelEvaluator) => unknown
}

/** Arguments of a comprehension node (the expansion of `map`, `filter`, `all`, `exists`, `exists_one`). */
export interface ComprehensionArgs {
  readonly iterVarName: string
  readonly iterable: CelNode
  readonly init: CelNode
  readonly step: CelNode
}

/** Members the type checker sets on comprehension nodes. */
export interface CheckedComprehensionNode extends CelNode {
  readonly args: ComprehensionArgs
  readonly handle: (items: unknown, args: ComprehensionArgs, ev: CelEvaluator, ctx: unknown) => unknown
}

/** A method call `receiver.name(args)` as the parser stores it. */
export type ReceiverCallArgs = readonly [string, CelNode, readonly CelNode[]]

/** A parsed expression: call it with a context; `check()` type-checks (and caches types on the AST). */
export interface CelProgram {
  (context: object): unknown
  readonly ast: CelNode
  check(): { valid: boolean; error?: unknown }
}

const environment = new Environment({
  unlistedVariablesAreDyn: true,
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
  limits: {
    maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxListElements: EXPRESSION_LIMITS.maxListLiteral,
    maxMapEntries: EXPRESSION_LIMITS.maxMapLiteral,
    maxCallArguments: EXPRESSION_LIMITS.maxCallArguments,
  },
})

const toDouble = Number
environment
  .registerOperator('double + int: double', (a: number, b: bigint) => a + toDouble(b))
  .registerOperator('int + double: double', (a: bigint, b: number) => toDouble(a) + b)
  .registerOperator('double - int: double', (a: number, b: bigint) => a - toDouble(b))
  .registerOperator('int - double: double', (a: bigint, b: number) => toDouble(a) - b)
  .registerOperator('double * int: double', (a: number, b: bigint) => a * toDouble(b))
  .registerOperator('int * double: double', (a: bigint, b: number) => toDouble(a) * b)
  .registerOperator('double / int: double', (a: number, b: bigint) => a / toDouble(b))
  .registerOperator('int / double: double', (a: bigint, b: number) => toDouble(a) / b)
  .registerOperator('double % double: double', (a: number, b: number) => a % b)
  .registerOperator('double % int: double', (a: number, b: bigint) => a % toDouble(b))
  .registerOperator('int % double: double', (a: bigint, b: number) => toDouble(a) % b)

/** Parses CEL source (throws the library's ParseError). */
export function parseCel(source: string): CelProgram {
  return environment.parse(source) as unknown as CelProgram
}

/** Value classes CEL can produce besides JSON data, for converting results. */
export const CEL_CLASSES = Object.freeze({
  Optional: Optional as Function,
  Duration: Duration as Function,
  UnsignedInt: UnsignedInt as Function,
  /** CEL type values (`type(x)`, `int`): the class is not exported, so take it from a value. */
  Type: (environment.evaluate('int') as object).constructor,
})

const AST_NODE_CLASS = parseCel('1').ast.constructor

/** True for AST nodes of the library (found inside node arguments and macro objects). */
export function isCelNode(value: unknown): value is CelNode {
  return value instanceof AST_NODE_CLASS
}
