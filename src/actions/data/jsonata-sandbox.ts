import jsonata from 'jsonata'
import { NonRetryableError } from '../../core/errors.ts'

/**
 * JSONata evaluation with bounds, for `data.transform`. JSONata is a non-Turing-complete query
 * language with no path to host objects (no `eval`, no `Function`), but an expression can still
 * loop (`$f := function(){ $f() }`), recurse deeply or build huge values. Each evaluation gets a
 * freshly compiled expression with:
 * - JSONata's own guardrails (`timeout`, `stack`, `sequence` options, the built-in form of the
 *   `timeboxExpression` helper of JSONata's test suite),
 * - `__evaluate_entry` / `__evaluate_exit` hooks that stop on the step's abort signal and refuse any
 *   intermediate string longer than `maxString`,
 * - `$pad` bounded to `maxString`, so one call cannot allocate a huge string before the hooks see it,
 * - a result converted to plain JSON under `maxOutputChars` and `maxOutputDepth` (a function, `NaN` or
 *   a too-large value is an error).
 * Residual risk, documented in docs/actions-data-chat.md: a single built-in call (`$join`, `$replace`)
 * may allocate up to V8's string limit before it returns and is refused.
 */

/** Bounds of one `data.transform` evaluation. */
export const TRANSFORM_LIMITS = Object.freeze({
  /** Wall-clock budget of one evaluation, in milliseconds. */
  timeoutMs: 1000,
  /** Deepest nesting of evaluation (recursion through functions counts). */
  maxDepth: 500,
  /** Longest sequence (array) an evaluation may build. */
  maxSequence: 100_000,
  /** Longest string an evaluation may build, in UTF-16 code units (4 MiB). */
  maxString: 4 * 1024 * 1024,
  /** Largest result, in characters of its JSON text (4 MiB). */
  maxOutputChars: 4 * 1024 * 1024,
  /** Deepest nesting of the result. */
  maxOutputDepth: 100,
  /** Longest expression source, in characters (64 KiB). */
  maxSource: 64 * 1024,
})

export type TransformLimits = typeof TRANSFORM_LIMITS

interface JsonataFault {
  code?: string
  position?: number
  token?: string
  message?: string
}

const ENTRY = Symbol.for('jsonata.__evaluate_entry') as unknown as string
const EXIT = Symbol.for('jsonata.__evaluate_exit') as unknown as string
/** Longest stretch of evaluation without letting the event loop run, in milliseconds. */
const YIELD_MS = 10
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/

function where(source: string, fault: JsonataFault): string {
  const near = fault.token === undefined ? '' : ` near \`${fault.token}\``
  const at = typeof fault.position === 'number' ? ` at position ${fault.position}` : ''
  const shown = source.length > 120 ? `${source.slice(0, 119)}…` : source
  return `${at}${near} in \`${shown}\``
}

/**
 * Compiles `source`; a syntax error is a `NonRetryableError` naming the position, the token and
 * JSONata's code (`S0xxx`). Exported so callers can check an expression without running it.
 */
export function compileTransform(source: string, limits: TransformLimits = TRANSFORM_LIMITS) {
  if (source.length > limits.maxSource)
    throw new NonRetryableError(
      `the JSONata expression is ${source.length} characters long; the limit is ${limits.maxSource}`,
    )
  try {
    return jsonata(source, {
      timeout: limits.timeoutMs,
      stack: limits.maxDepth,
      sequence: limits.maxSequence,
    })
  } catch (err) {
    const fault = err as JsonataFault
    throw new NonRetryableError(
      `the JSONata expression does not parse${where(source, fault)}: ${fault.message ?? String(err)} [${fault.code ?? 'S0000'}]`,
    )
  }
}

/**
 * Evaluates `source` over `input` with `bindings` as `$name` variables, inside the limits, and
 * returns the result as plain JSON (`undefined`, JSONata's "no match", becomes `null`).
 * Throws `NonRetryableError` for syntax errors, evaluation errors and every limit (retrying the same
 * expression on the same data fails the same way), and the signal's reason when it aborts.
 */
export async function evaluateTransform(
  source: string,
  input: unknown,
  options: { bindings?: Record<string, unknown>; signal?: AbortSignal; limits?: TransformLimits } = {},
): Promise<unknown> {
  const limits = options.limits ?? TRANSFORM_LIMITS
  const expression = compileTransform(source, limits)
  const signal = options.signal
  // JSONata's awaits resolve as microtasks, so a long evaluation would hold the event loop (timers,
  // other runs, the step's own timeout) until its time box ends: yield every `YIELD_MS` of work.
  let entries = 0
  let lastYield = performance.now()
  expression.assign(ENTRY, async () => {
    if (signal?.aborted) throw { code: 'HS_ABORT', message: 'the step was aborted' }
    if (++entries % 256 !== 0 || performance.now() - lastYield < YIELD_MS) return
    await new Promise<void>((resolve) => setImmediate(resolve))
    lastYield = performance.now()
    if (signal?.aborted) throw { code: 'HS_ABORT', message: 'the step was aborted' }
  })
  expression.assign(EXIT, (_node: unknown, _input: unknown, _env: unknown, result: unknown) => {
    if (typeof result === 'string' && result.length > limits.maxString)
      throw {
        code: 'HS_STRING',
        message: `the expression built a string of ${result.length} characters; the limit is ${limits.maxString}`,
      }
  })
  expression.registerFunction(
    'pad',
    (str: string | undefined, width: number, char?: string) => boundedPad(str, width, char, limits.maxString),
    '<s-ns?:s>',
  )
  for (const name of Object.keys(options.bindings ?? {})) {
    if (!VARIABLE.test(name))
      throw new NonRetryableError(`bindings: \`${name}\` is not a variable name (letters, digits and _)`)
  }
  let result: unknown
  try {
    result = await expression.evaluate(input, options.bindings)
  } catch (err) {
    if (signal?.aborted) throw signal.reason as Error
    const fault = err as JsonataFault
    const code = fault.code ?? 'error'
    const limit =
      code === 'D1012'
        ? ` (time limit ${limits.timeoutMs}ms)`
        : code === 'D1011'
          ? ` (depth limit ${limits.maxDepth})`
          : code === 'D2015' || code === 'D2014'
            ? ` (sequence limit ${limits.maxSequence})`
            : ''
    throw new NonRetryableError(
      `the JSONata expression failed${where(source, fault)}: ${fault.message ?? String(err)}${limit} [${code}]`,
    )
  }
  return toPlainJson(result, limits)
}

function boundedPad(
  str: string | undefined,
  width: number,
  char: string | undefined,
  max: number,
): string | undefined {
  if (str === undefined) return undefined
  width = Math.trunc(width)
  if (Math.abs(width) > max)
    throw { code: 'HS_STRING', message: `$pad to ${Math.abs(width)} characters; the limit is ${max}` }
  const fill = char === undefined || char === '' ? ' ' : char
  const chars = Array.from(str)
  const missing = Math.abs(width) - chars.length
  if (missing <= 0) return str
  const padding = Array.from(fill.repeat(Math.ceil(missing / Array.from(fill).length)))
    .slice(0, missing)
    .join('')
  return width > 0 ? str + padding : padding + str
}

/** JSONata's result as JSON data: sequences become arrays, functions and non-finite numbers are refused. */
function toPlainJson(value: unknown, limits: TransformLimits): unknown {
  let chars = 0
  const add = (n: number): void => {
    chars += n
    if (chars > limits.maxOutputChars)
      throw new NonRetryableError(
        `the JSONata result is larger than ${limits.maxOutputChars} characters of JSON; select less data`,
      )
  }
  const walk = (v: unknown, depth: number, path: string): unknown => {
    if (depth > limits.maxOutputDepth)
      throw new NonRetryableError(
        `the JSONata result nests deeper than ${limits.maxOutputDepth} levels at ${path}`,
      )
    if (v === undefined || v === null) {
      add(4)
      return null
    }
    switch (typeof v) {
      case 'string':
        add(v.length + 2)
        return v
      case 'boolean':
        add(5)
        return v
      case 'number':
        if (!Number.isFinite(v)) throw new NonRetryableError(`the JSONata result holds ${v} at ${path}`)
        add(String(v).length)
        return v
      case 'function':
        throw new NonRetryableError(
          `the JSONata result holds a function at ${path}; call it, or return data instead`,
        )
      case 'object': {
        if (Array.isArray(v)) {
          add(2)
          return v.map((item, i) => walk(item, depth + 1, `${path}/${i}`))
        }
        // JSONata lambdas and partially applied functions are objects carrying a marker and code
        const marked = v as Record<string, unknown>
        if (
          (marked._jsonata_lambda === true && typeof marked.environment === 'object') ||
          (marked._jsonata_function === true && typeof marked.implementation === 'function')
        )
          throw new NonRetryableError(
            `the JSONata result holds a function at ${path}; call it, or return data instead`,
          )
        const out: Record<string, unknown> = {}
        add(2)
        for (const [key, item] of Object.entries(v)) {
          if (item === undefined) continue
          add(key.length + 3)
          Object.defineProperty(out, key, {
            value: walk(item, depth + 1, `${path}/${key}`),
            enumerable: true,
            writable: true,
            configurable: true,
          })
        }
        return out
      }
      default:
        throw new NonRetryableError(`the JSONata result holds a ${typeof v} at ${path}`)
    }
  }
  return walk(value, 0, '')
}
