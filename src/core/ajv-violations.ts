import type { ErrorObject } from 'ajv'
import { escapeToken } from './json-pointer.ts'

/**
 * Ajv errors → violations a sender can act on (event data, step parameters, run inputs), each a JSON pointer into the event and a
 * sentence that starts with it: `/data/score must be <= 100 (got 120)`, `/data/component_id is required`.
 */

/** One way an event breaks its schema: `pointer` into the event (`/data/score`), message naming it. */
export interface Violation {
  pointer: string
  message: string
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
}

/** `base` is the pointer of the validated value inside the event (`/data`). */
export function violationsOf(errors: readonly ErrorObject[], base: string): Violation[] {
  const out: Violation[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    if (e.keyword === 'if') continue
    const v = violation(e, base + e.instancePath)
    const key = `${v.pointer}\u0000${v.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(v)
  }
  return out
}

function violation(e: ErrorObject, pointer: string): Violation {
  const p = e.params as Record<string, unknown>
  const got = ` (got ${describe(e.data)})`
  const at = (message: string, where = pointer): Violation => ({
    pointer: where,
    message: `${where} ${message}`,
  })
  switch (e.keyword) {
    case 'required':
      return at('is required', `${pointer}/${escapeToken(String(p.missingProperty))}`)
    case 'additionalProperties':
      return at('is not allowed here', `${pointer}/${escapeToken(String(p.additionalProperty))}`)
    case 'unevaluatedProperties':
      return at('is not allowed here', `${pointer}/${escapeToken(String(p.unevaluatedProperty))}`)
    case 'type': {
      const types = Array.isArray(p.type) ? p.type.map(String) : String(p.type).split(',')
      return at(`must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}${got}`)
    }
    case 'enum':
      return at(`must be one of ${(p.allowedValues as unknown[]).map(describe).join(', ')}${got}`)
    case 'const':
      return at(`must be ${describe(p.allowedValue)}${got}`)
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return at(`must be ${String(p.comparison)} ${String(p.limit)}${got}`)
    case 'multipleOf':
      return at(`must be a multiple of ${String(p.multipleOf)}${got}`)
    case 'minLength':
      return at(`must be at least ${String(p.limit)} characters long${got}`)
    case 'maxLength':
      return at(`must be at most ${String(p.limit)} characters long`)
    case 'items':
    case 'additionalItems':
      return p.limit === undefined
        ? at(e.message ?? 'is invalid')
        : at(`must have at most ${JSON.stringify(p.limit)} items`)
    case 'minItems':
      return at(`must have at least ${String(p.limit)} items`)
    case 'maxItems':
      return at(`must have at most ${String(p.limit)} items`)
    case 'minProperties':
      return at(`must have at least ${String(p.limit)} properties`)
    case 'maxProperties':
      return at(`must have at most ${String(p.limit)} properties`)
    case 'uniqueItems':
      return at(`must not repeat items (items ${String(p.j)} and ${String(p.i)} are equal)`)
    case 'pattern':
      return at(`must match the pattern ${String(p.pattern)}${got}`)
    case 'format':
      return at(`must be a valid ${String(p.format)}${got}`)
    default:
      return at(e.message ?? 'is invalid')
  }
}

/** A value in a message: JSON, shortened; `nothing` for an absent value. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  let text: string
  try {
    text = JSON.stringify(value) ?? typeof value
  } catch {
    text = typeof value
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
