/**
 * The expression and template layer: CEL (via `@marcbachmann/cel-js`) for `if`, `when`, `foreach`,
 * filters and `{{ }}` in strings, with JSON-friendly numbers, structural limits, an evaluation budget
 * and results converted to plain JSON. Pure code: no I/O. See docs/expressions.md.
 */
export { compileExpression, type Expression, type ExprContext } from './compile-expression.ts'
export {
  ExpressionError,
  type ExpressionErrorCode,
  type ExpressionErrorLocation,
} from './expression-error.ts'
export { EXPRESSION_LIMITS, type ExpressionLimits } from './limits.ts'
export {
  compileTemplate,
  templateProblems,
  templateUses,
  type Template,
  type TemplateProblem,
  type TemplateUse,
} from './template.ts'
export type { VariableUse } from './ast-inspection.ts'
export { isTemplateString } from './template-scanner.ts'
