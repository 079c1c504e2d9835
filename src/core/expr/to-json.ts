/**
 * Converts what CEL produced into plain JSON data: always a fresh copy (the context is never aliased),
 * never a function or class instance, bounded by `maxResultValues`, `maxResultChars` and
 * `maxResultDepth` (results built from shared sub-lists can be exponentially larger than the work done
 * to build them).
 *
 * | CEL value                       | JSON                                                       |
 * |---------------------------------|------------------------------------------------------------|
 * | int, uint (BigInt)              | number; a decimal string outside ±(2^53 − 1)               |
 * | double                          | number; NaN and ±Infinity are an error                     |
 * | map (object or Map)             | object with string keys; `undefined` entries are dropped   |
 * | list (array or Set)             | array                                                      |
 * | bytes                           | base64 string                                              |
 * | timestamp                       | ISO 8601 string (`2024-01-15T14:30:45.123Z`)               |
 * | duration                        | CEL duration string (`90s`, `1.5s`)                        |
 * | optional                        | its value, or null when empty                              |
 * | type (`type(x)`, `int`)         | the type name (`int`, `map`)                               |
 */
import { Buffer } from 'node:buffer'
import { CEL_CLASSES } from './cel-environment.ts'
import { ExpressionError } from './expression-error.ts'
import { EXPRESSION_LIMITS } from './limits.ts'

interface Tally {
  values: number
  chars: number
}

/** Converts a CEL result to plain JSON data (see the table above). Throws `ExpressionError`. */
export function toJson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      if (value.length > EXPRESSION_LIMITS.maxResultChars)
        tooLarge(`more than ${EXPRESSION_LIMITS.maxResultChars} characters (limit maxResultChars)`)
      return value
    case 'boolean':
      return value
    default:
      return convert(value, 0, { values: 0, chars: 0 })
  }
}

function tooLarge(what: string): never {
  throw new ExpressionError('HS_ERR_EXPR_BUDGET', `expression result is too large: ${what}`)
}

function unsupported(what: string): never {
  throw new ExpressionError('HS_ERR_EXPR_EVAL', `expression result ${what}, which is not JSON data`)
}

function bigintToJson(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(value)
    : value.toString()
}

function countChars(tally: Tally, length: number): void {
  tally.chars += length
  if (tally.chars > EXPRESSION_LIMITS.maxResultChars)
    tooLarge(`more than ${EXPRESSION_LIMITS.maxResultChars} characters (limit maxResultChars)`)
}

function setEntry(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

function convert(value: unknown, depth: number, tally: Tally): unknown {
  if (++tally.values > EXPRESSION_LIMITS.maxResultValues) {
    tooLarge(`more than ${EXPRESSION_LIMITS.maxResultValues} values (limit maxResultValues)`)
  }
  switch (typeof value) {
    case 'string':
      countChars(tally, value.length)
      return value
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) unsupported(`is ${value}`)
      return value
    case 'bigint':
      return bigintToJson(value)
    case 'object':
      if (value === null) return null
      if (depth >= EXPRESSION_LIMITS.maxResultDepth)
        tooLarge(`nested more than ${EXPRESSION_LIMITS.maxResultDepth} levels deep (limit maxResultDepth)`)
      return convertObject(value, depth + 1, tally)
    default:
      return unsupported(`contains a ${typeof value}`)
  }
}

function convertObject(value: object, depth: number, tally: Tally): unknown {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Array.prototype || value instanceof Set) {
    const out: unknown[] = []
    for (const item of value as Iterable<unknown>)
      out.push(item === undefined ? null : convert(item, depth, tally))
    return out
  }
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key]
      if (item === undefined) continue
      countChars(tally, key.length)
      setEntry(out, key, convert(item, depth, tally))
    }
    return out
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of value as Map<unknown, unknown>) {
      if (item === undefined) continue
      const name = typeof key === 'string' ? key : String(convert(key, depth, tally))
      countChars(tally, name.length)
      setEntry(out, name, convert(item, depth, tally))
    }
    return out
  }
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
    countChars(tally, text.length)
    return text
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) unsupported('is an invalid timestamp')
    return value.toISOString()
  }
  if (value instanceof CEL_CLASSES.Optional) {
    const optional = value as unknown as { hasValue(): boolean; value(): unknown }
    return optional.hasValue() ? convert(optional.value(), depth, tally) : null
  }
  if (value instanceof CEL_CLASSES.UnsignedInt)
    return bigintToJson((value as unknown as { valueOf(): bigint }).valueOf())
  if (value instanceof CEL_CLASSES.Duration) return (value as unknown as { toString(): string }).toString()
  if (value instanceof CEL_CLASSES.Type) return (value as unknown as { name: string }).name
  return unsupported('contains an object that is not a plain map or list')
}
