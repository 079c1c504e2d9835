/**
 * Every structural limit (checked when an expression is compiled: `HS_ERR_EXPR_LIMIT`) and every
 * evaluation budget (checked while it runs: `HS_ERR_EXPR_BUDGET`). docs/expressions.md explains them.
 * They are deliberately generous for real workflow conditions and templates, and tight enough that no
 * expression can hang the engine or exhaust its memory.
 */
export const EXPRESSION_LIMITS = Object.freeze({
  /** Compile: maximum expression source length, in UTF-16 code units (8 KiB). */
  maxLength: 8192,
  /** Compile: maximum number of AST nodes produced by the parser. */
  maxAstNodes: 10_000,
  /** Compile: maximum nesting depth of the grammar (parentheses, calls, member access, literals). */
  maxDepth: 64,
  /**
   * Compile: maximum depth of the syntax tree, counting every operator (a chain `a && b && c ...` or
   * `!!!x` nests one level per operator, unlike `maxDepth`).
   */
  maxAstDepth: 512,
  /** Compile: maximum elements in one list literal `[...]`. */
  maxListLiteral: 1000,
  /** Compile: maximum entries in one map literal `{...}`. */
  maxMapLiteral: 1000,
  /** Compile: maximum arguments of one function call. */
  maxCallArguments: 32,
  /** Compile: maximum comprehensions (`map`, `filter`, `all`, `exists`, `exists_one`) nested inside each other. */
  maxComprehensionNesting: 3,
  /** Compile: maximum `{{ }}` expressions in one template string. */
  maxTemplateExpressions: 100,
  /** Compile and run: maximum length of a `matches()` pattern, in characters. */
  maxRegexLength: 512,
  /** Run: maximum length of a string tested by `matches()`, in characters. */
  maxRegexInput: 100_000,
  /**
   * Run: the operation budget of one evaluation. Each comprehension iteration costs 1; building strings
   * and lists, deep comparisons, `in` on lists and `matches()` cost in proportion to the data they touch.
   * About 50–100 ms of work on a laptop.
   */
  maxOperations: 500_000,
  /** Run: wall-clock budget of one evaluation, in milliseconds (a backstop to `maxOperations`). */
  maxEvaluationMs: 250,
  /** Run: maximum items a comprehension may iterate over. */
  maxComprehensionItems: 500_000,
  /** Run: maximum length of a string built by an expression (`+`, `join`, interpolation), in characters (4 MiB). */
  maxStringLength: 4_194_304,
  /** Run: maximum length of a list built by an expression (`+`, `split`, `map`, `filter`). */
  maxListLength: 100_000,
  /** Run: maximum values (scalars, lists, maps, counted recursively) in an expression's result. */
  maxResultValues: 1_000_000,
  /** Run: maximum total characters of strings and keys in an expression's result (16 MiB). */
  maxResultChars: 16_777_216,
  /** Run: maximum nesting depth of an expression's result. */
  maxResultDepth: 256,
  /** Compiled expressions kept in the memo (least recently used are dropped first). */
  memoSize: 2000,
})

/** The shape of `EXPRESSION_LIMITS`. */
export type ExpressionLimits = typeof EXPRESSION_LIMITS
