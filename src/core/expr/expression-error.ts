import { HsError } from '../errors.ts'

/** The four stable codes an expression problem can carry (catalogued in `core/errors.ts`). */
export type ExpressionErrorCode =
  'HS_ERR_EXPR_PARSE' | 'HS_ERR_EXPR_LIMIT' | 'HS_ERR_EXPR_EVAL' | 'HS_ERR_EXPR_BUDGET'

/** Where an expression problem is: all optional, filled in as the error travels outwards. */
export interface ExpressionErrorLocation {
  /** 0-based character offset in the expression source. */
  readonly offset?: number
  /** JSON pointer inside a templated value, e.g. `/message` or `/items/2`. */
  readonly pointer?: string
  /** The expression source (the text between `{{ }}` for templates). */
  readonly expression?: string
}

/**
 * A user error in a CEL expression or template: it does not parse (`HS_ERR_EXPR_PARSE`), it is over a
 * structural limit (`HS_ERR_EXPR_LIMIT`), it failed on this data (`HS_ERR_EXPR_EVAL`), or it used more
 * than its evaluation budget (`HS_ERR_EXPR_BUDGET`). `message` is one line, readable without the source:
 * what happened, then where (`pointer`, expression, offset).
 */
export class ExpressionError extends HsError {
  declare readonly code: ExpressionErrorCode
  readonly offset?: number
  readonly pointer?: string
  readonly expression?: string
  /** The problem alone, without the location suffix (what `templateProblems` reports). */
  readonly summary: string

  constructor(
    code: ExpressionErrorCode,
    summary: string,
    location: ExpressionErrorLocation = {},
    options?: { cause?: unknown },
  ) {
    const details: Record<string, unknown> = {}
    if (location.pointer !== undefined) details.pointer = location.pointer
    if (location.expression !== undefined) details.expression = location.expression
    if (location.offset !== undefined) details.offset = location.offset
    super(code, formatMessage(summary, location), { cause: options?.cause, details })
    this.name = 'ExpressionError'
    this.summary = summary
    if (location.offset !== undefined) this.offset = location.offset
    if (location.pointer !== undefined) this.pointer = location.pointer
    if (location.expression !== undefined) this.expression = location.expression
  }

  /** A copy of this error with more location filled in (existing fields win, except `pointer`). */
  locate(location: ExpressionErrorLocation): ExpressionError {
    return new ExpressionError(
      this.code,
      this.summary,
      {
        offset: this.offset ?? location.offset,
        expression: this.expression ?? location.expression,
        pointer: location.pointer ?? this.pointer,
      },
      { cause: this.cause },
    )
  }
}

const MAX_SHOWN_EXPRESSION = 120

function formatMessage(summary: string, { pointer, expression, offset }: ExpressionErrorLocation): string {
  const where: string[] = []
  if (expression !== undefined) {
    const shown =
      expression.length > MAX_SHOWN_EXPRESSION ? `${expression.slice(0, MAX_SHOWN_EXPRESSION)}…` : expression
    where.push(`in \`${shown.replace(/\s+/g, ' ')}\``)
  }
  if (offset !== undefined) where.push(`at offset ${offset}`)
  const head = pointer === undefined ? '' : `${pointer === '' ? '(root)' : pointer}: `
  return `${head}${summary}${where.length > 0 ? ` (${where.join(' ')})` : ''}`
}
