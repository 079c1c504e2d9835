import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { ActionDefinition } from '../core/action.ts'
import { violationsOf } from '../core/ajv-violations.ts'

/** Every violation as one line: `/with/channel must be a string (got 5); /with/text is required`. */
export function describeViolations(errors: ErrorObject[] | null | undefined, base: string): string {
  const violations = violationsOf(errors ?? [], base)
  return violations.length === 0 ? `${base} is invalid` : violations.map((v) => v.message).join('; ')
}

/** Validates rendered step parameters against each action's JSON Schema; validators compiled once per action. */
export class ParamChecker {
  readonly #ajv = new Ajv({ allErrors: true, verbose: true, strict: false, useDefaults: true })
  readonly #cache = new WeakMap<object, ValidateFunction>()

  constructor() {
    addFormats.default(this.#ajv)
  }

  check(action: ActionDefinition<Record<string, unknown>, unknown>, params: unknown): string | undefined {
    let validate = this.#cache.get(action)
    if (!validate) {
      validate = this.#ajv.compile(action.params)
      this.#cache.set(action, validate)
    }
    return validate(params) ? undefined : describeViolations(validate.errors, '/with')
  }
}
