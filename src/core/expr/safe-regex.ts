/**
 * `matches()` without ReDoS. CEL specifies RE2 semantics (linear time, no backreferences or
 * lookaround); V8 ships a linear-time engine with the same restrictions behind the regexp flag `l`.
 * The flag needs `--enable-experimental-regexp-engine`, which this module sets through `node:v8`
 * the first time a pattern is compiled (it only makes the `l` flag available; other regexps are
 * unaffected). Patterns the linear engine cannot run are rejected, inputs are capped at
 * `maxRegexInput` characters, and each test is charged to the evaluation meter in proportion to
 * input length × pattern length.
 */
import { setFlagsFromString } from 'node:v8'
import { EXPRESSION_LIMITS } from './limits.ts'
import { LruCache } from './lru-cache.ts'
import { charge, failBudget } from './meter.ts'

const LINEAR_FLAG = 'l'
const cache = new LruCache<string, RegExp | string>(500)
let linearEngine: boolean | undefined

function linearFlagWorks(): boolean {
  try {
    return new RegExp('a', LINEAR_FLAG).test('a')
  } catch {
    return false
  }
}

function linearEngineAvailable(): boolean {
  if (linearEngine === undefined) {
    linearEngine = linearFlagWorks()
    if (!linearEngine) {
      setFlagsFromString('--enable-experimental-regexp-engine')
      linearEngine = linearFlagWorks()
    }
  }
  return linearEngine
}

/**
 * Compiles a `matches()` pattern for the linear-time engine: the RegExp, or a one-line explanation of
 * why the pattern cannot be used. Results are cached by pattern.
 */
export function compileSafeRegex(pattern: string): RegExp | string {
  const cached = cache.get(pattern)
  if (cached !== undefined) return cached
  let result: RegExp | string
  if (pattern.length > EXPRESSION_LIMITS.maxRegexLength) {
    result = `matches() pattern is ${pattern.length} characters long; the limit is ${EXPRESSION_LIMITS.maxRegexLength}`
  } else if (!linearEngineAvailable()) {
    result = 'matches() is unavailable: this Node.js build has no linear-time regexp engine'
  } else {
    try {
      result = new RegExp(pattern, LINEAR_FLAG)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      result = /linear time/.test(reason)
        ? `matches() pattern ${JSON.stringify(pattern)} needs backtracking (backreferences, lookaround or huge nested counts), which RE2-style matching does not support`
        : `matches() pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${reason.replace(/^Invalid regular expression: /, '')}`
    }
  }
  cache.set(pattern, result)
  return result
}

/** Tests `input` against a pattern already compiled by `compileSafeRegex`, charging the meter. */
export function testSafeRegex(regex: RegExp, input: string, at?: number): boolean {
  if (input.length > EXPRESSION_LIMITS.maxRegexInput) {
    failBudget(
      `matches() input is ${input.length} characters long; the limit is ${EXPRESSION_LIMITS.maxRegexInput}`,
      at,
    )
  }
  charge(1 + Math.floor((input.length * (regex.source.length + 16)) / 128), at)
  return regex.test(input)
}
