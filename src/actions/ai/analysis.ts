import type { ValidateFunction } from 'ajv'
import { newAjv } from '../../core/ajv-messages.ts'
import { violationsOf } from '../../core/ajv-violations.ts'
import { CodedError, CodedNonRetryableError } from '../net/errors.ts'

/** How `ai.analyze` reads a structured answer: find the JSON in it, check it against the schema. */

/** What `ai.analyze` asks for when the step gives no `schema`. */
export const DEFAULT_ANALYSIS_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string', description: 'The conclusion in a few sentences' },
    findings: {
      type: 'array',
      description: 'Each issue or observation',
      items: {
        type: 'object',
        properties: {
          severity: { type: 'string', enum: ['info', 'warning', 'error'] },
          message: { type: 'string' },
          location: { type: 'string', description: 'Where: file:line, field, section' },
        },
        required: ['severity', 'message'],
      },
    },
  },
  required: ['summary', 'findings'],
} as const

/** The JSON object in a model's answer: the whole text, a fenced block, or the outermost `{...}`. */
export function extractJson(text: string): unknown {
  const candidates = [text.trim()]
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text)
  if (fenced) candidates.push(fenced[1]!.trim())
  const first = text.indexOf('{')
  const last = text.lastIndexOf('}')
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1))
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate) as unknown
    } catch {
      // next candidate
    }
  }
  throw new Error('no JSON object found in the answer')
}

const ajv = newAjv({ strict: false })
const validators = new Map<string, ValidateFunction>()

function validatorFor(schema: object): ValidateFunction {
  const key = JSON.stringify(schema)
  let validate = validators.get(key)
  if (!validate) {
    try {
      validate = ajv.compile(schema)
    } catch (err) {
      throw new CodedNonRetryableError(
        'HS_ERR_ACTION_PARAMS',
        `ai.analyze: \`schema\` is not a valid JSON Schema: ${(err as Error).message}`,
      )
    }
    if (validators.size >= 100) validators.delete(validators.keys().next().value!)
    validators.set(key, validate)
  }
  return validate
}

/** The model's answer as JSON valid against `schema`; `HS_ERR_AI_ANSWER` (retryable) otherwise. */
export function parseAnalysis(text: string, schema: object, finishReason: string): unknown {
  let json: unknown
  try {
    json = extractJson(text)
  } catch (err) {
    const hint = finishReason === 'length' ? ' (the answer was cut at max_tokens: raise it)' : ''
    throw new CodedError(
      'HS_ERR_AI_ANSWER',
      `ai.analyze: the model did not answer with JSON${hint}: ${(err as Error).message}; it said: ${text.slice(0, 200)}`,
    )
  }
  const validate = validatorFor(schema)
  if (!validate(json)) {
    const problems = violationsOf(validate.errors ?? [], '')
      .map((v) => v.message)
      .join('; ')
    throw new CodedError('HS_ERR_AI_ANSWER', `ai.analyze: the answer does not match the schema: ${problems}`)
  }
  return json
}
