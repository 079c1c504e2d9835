import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { ActionDefinition } from '../core/action.ts'

/** Describes Ajv errors the way a person reads them: "`with.channel` must be string". */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined, root: string): string {
  if (!errors || errors.length === 0) return 'invalid'
  return errors
    .slice(0, 5)
    .map((e) => {
      const path = e.instancePath ? `${root}${e.instancePath.replace(/\//g, '.')}` : root
      if (e.keyword === 'required')
        return `\`${path}.${(e.params as { missingProperty: string }).missingProperty}\` is required`
      if (e.keyword === 'additionalProperties')
        return `\`${path}\` has unknown key \`${(e.params as { additionalProperty: string }).additionalProperty}\``
      return `\`${path}\` ${e.message ?? 'is invalid'}`
    })
    .join('; ')
}

/** Validates rendered step parameters against each action's JSON Schema; validators compiled once per action. */
export class ParamChecker {
  readonly #ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true })
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
    return validate(params) ? undefined : describeAjvErrors(validate.errors, 'with')
  }
}
