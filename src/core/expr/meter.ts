/**
 * The evaluation budget. Evaluation is synchronous, so the meter is module state: `meterStart` before
 * an evaluation, `meterStop` after it (nesting is allowed and restores the outer meter). Instrumented
 * AST nodes call `charge` with the work they did; the fast path is one addition and one comparison.
 * The clock is read only every `TIME_CHECK_INTERVAL` operations, and only once an evaluation has done
 * that much work, so cheap expressions never read it.
 *
 * Once the budget is exceeded the failure is sticky: every later `charge` throws the same error, and
 * `meterStop` returns it, so CEL's error-absorbing operators (`||`, `&&`, `exists`) cannot swallow it.
 */
import { ExpressionError } from './expression-error.ts'
import { EXPRESSION_LIMITS } from './limits.ts'

const TIME_CHECK_INTERVAL = 16

let ops = 0
let checkpoint = 0
let clockStart = 0
let failure: ExpressionError | undefined
let depth = 0
const saved: Array<{
  ops: number
  checkpoint: number
  clockStart: number
  failure: ExpressionError | undefined
}> = []

/** Starts metering one evaluation. */
export function meterStart(): void {
  if (depth++ > 0) saved.push({ ops, checkpoint, clockStart, failure })
  ops = 0
  checkpoint = TIME_CHECK_INTERVAL
  clockStart = 0
  failure = undefined
}

/** Stops metering; returns the budget failure of this evaluation, if any. */
export function meterStop(): ExpressionError | undefined {
  const result = failure
  const outer = --depth > 0 ? saved.pop() : undefined
  if (outer !== undefined) ({ ops, checkpoint, clockStart, failure } = outer)
  return result
}

/** Charges `units` operations; throws `HS_ERR_EXPR_BUDGET` when over budget. `at` is a source offset. */
export function charge(units: number, at?: number): void {
  if ((ops += units) > checkpoint) overCheckpoint(at)
}

/** Fails the evaluation with `HS_ERR_EXPR_BUDGET` (sticky, see above). */
export function failBudget(summary: string, at?: number): never {
  failure ??= new ExpressionError('HS_ERR_EXPR_BUDGET', summary, { offset: at })
  checkpoint = -1
  throw failure
}

/** Operations left in this evaluation's budget. */
export function remainingOperations(): number {
  return EXPRESSION_LIMITS.maxOperations - ops
}

function overCheckpoint(at: number | undefined): void {
  if (failure !== undefined) throw failure
  const max = EXPRESSION_LIMITS.maxOperations
  if (ops > max) {
    failBudget(
      `evaluation budget exceeded: more than ${max} operations (comprehension iterations, string and list building, deep comparisons); filter lists before nesting map/filter/exists, or do this work in a step`,
      at,
    )
  }
  const now = performance.now()
  if (clockStart === 0) clockStart = now
  else if (now - clockStart > EXPRESSION_LIMITS.maxEvaluationMs) {
    failBudget(`evaluation budget exceeded: took longer than ${EXPRESSION_LIMITS.maxEvaluationMs} ms`, at)
  }
  checkpoint = Math.min(ops + TIME_CHECK_INTERVAL, max)
}
