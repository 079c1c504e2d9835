import type { ErrorObject } from 'ajv'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { dotted, escapeToken, get, join, split } from './json-pointer.ts'
import { slugify } from './slug.ts'
import { didYouMean, show, unknownKey } from './suggest.ts'
import type { WorkflowIssue } from './workflow-issue.ts'
import { ID_PATTERN, MAX_STEPS } from './workflow-schema.ts'

/**
 * Ajv errors → messages a person can act on: what is wrong, where (step, trigger, parameter), what
 * was expected and what was found, plus a "did you mean" for names. Used for the workflow's own
 * structure and for action parameters (`with`).
 */

export function newAjv(options: { strict: boolean }): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: options.strict })
  addFormats.default(ajv)
  return ajv
}

export interface ParamsContext {
  /** "step `notify`" */
  label: string
  /** Action type. */
  action: string
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
}

/** "number 5", "string `abc`", "a list", "null". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `string \`${value.length > 40 ? `${value.slice(0, 40)}…` : value}\``
  return `${typeof value} ${show(value)}`
}

function expectedTypes(type: unknown): string {
  const list = Array.isArray(type) ? type.map(String) : String(type).split(',')
  return list.map((t) => TYPE_WORDS[t] ?? t).join(' or ')
}

interface Where {
  /** "step `shout`", "trigger 2 (`schedule`)", "settings", "" for the workflow itself */
  label: string
  /** Dotted path below the labelled thing: `retry.attempts`, `needs[0]`, `with.channel`. */
  path: string
}

function dottedTokens(tokens: string[]): string {
  return dotted(tokens.map((t) => '/' + escapeToken(t)).join(''))
}

function locate(pointer: string, root: unknown, params?: ParamsContext): Where {
  const tokens = split(pointer)
  if (params) return { label: params.label, path: dottedTokens(['with', ...tokens]) }
  const [head, index, ...rest] = tokens
  if (head === 'steps' && index !== undefined) {
    const id = get(root, join('/steps', index, 'id'))
    const label =
      typeof id === 'string' && new RegExp(ID_PATTERN).test(id)
        ? `step \`${id}\``
        : `step ${Number(index) + 1}`
    return { label, path: dottedTokens(rest) }
  }
  if (head === 'triggers' && index !== undefined) {
    const type = get(root, join('/triggers', index, 'type'))
    return {
      label: `trigger ${Number(index) + 1}${typeof type === 'string' ? ` (\`${type}\`)` : ''}`,
      path: dottedTokens(rest),
    }
  }
  return { label: '', path: dottedTokens(tokens) }
}

/** "step `a`: `retry.attempts`", "`version`", "step `a`", "the workflow". */
function subject(w: Where): string {
  if (w.path === '') return w.label === '' ? 'the workflow' : w.label
  return w.label === '' ? `\`${w.path}\`` : `${w.label}: \`${w.path}\``
}

export function ajvIssues(errors: ErrorObject[], root: unknown, params?: ParamsContext): WorkflowIssue[] {
  const out: WorkflowIssue[] = []
  const seen = new Set<string>()
  const paths = new Set(errors.filter((e) => !isSummary(e)).map((e) => e.instancePath))
  for (const e of errors) {
    if (e.keyword === 'if') continue
    if (isSummary(e) && [...paths].some((p) => p.startsWith(e.instancePath))) continue
    const issue = translate(e, root, params)
    if (!issue) continue
    const key = `${issue.pointer}\u0000${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return out
}

function isSummary(e: ErrorObject): boolean {
  return e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if'
}

function translate(e: ErrorObject, root: unknown, params?: ParamsContext): WorkflowIssue | undefined {
  const pointer = e.instancePath
  const where = locate(pointer, root, params)
  const data: unknown = e.data !== undefined ? e.data : get(root, pointer)
  const issue = (message: string, at: 'key' | 'value' = 'value', p = pointer): WorkflowIssue => ({
    pointer: p,
    code: 'HS_ERR_WORKFLOW_INVALID',
    message,
    at,
  })
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'type': {
      if (!params && /^\/steps\/\d+\/needs\/\d+$/.test(pointer)) {
        return issue(
          `${subject(where)} must be a step id or a mapping \`{step, when}\` (got ${describeValue(data)})`,
        )
      }
      const description = (e.parentSchema as { description?: unknown } | undefined)?.description
      const expected =
        !params && typeof description === 'string' && description.startsWith('Duration')
          ? 'a duration (e.g. 30s, 5m, 1h) or a number of milliseconds'
          : expectedTypes(p.type)
      return issue(`${subject(where)} must be ${expected} (got ${describeValue(data)})`)
    }
    case 'required':
      return issue(
        missingMessage(String(p.missingProperty), where, pointer, params),
        params ? 'key' : 'value',
      )
    case 'additionalProperties': {
      const key = String(p.additionalProperty)
      const properties =
        (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}
      const allowed = Object.keys(properties)
      const child = join(pointer, key)
      if (params) {
        const hint = didYouMean(key, allowed)
        const at = where.path === 'with' ? '' : ` in \`${where.path}\``
        const list = allowed.length > 0 ? ` Allowed parameters: ${allowed.join(', ')}` : ''
        return issue(
          `${where.label}: unknown parameter \`${key}\`${at} for action \`${params.action}\`${hint === '' ? '.' : hint}${list}`,
          'key',
          child,
        )
      }
      const inWhat =
        where.path === ''
          ? where.label === ''
            ? 'the workflow'
            : where.label
          : `\`${where.path}\` of ${where.label || 'the workflow'}`
      return issue(unknownKey(key, inWhat, allowed), 'key', child)
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String)
      const hint = typeof data === 'string' ? didYouMean(data, allowed) : ''
      if (!params && /^\/triggers\/\d+\/type$/.test(pointer)) {
        return issue(
          `unknown trigger type \`${show(data)}\`${hint === '' ? '.' : hint} Known types: ${allowed.join(', ')}`,
        )
      }
      return issue(
        `${subject(where)} must be one of ${allowed.join(', ')} (got ${describeValue(data)})${hint}`,
      )
    }
    case 'const':
      return issue(`${subject(where)} must be \`${String(p.allowedValue)}\` (got ${describeValue(data)})`)
    case 'pattern': {
      if (p.pattern === ID_PATTERN && typeof data === 'string') {
        const slug = slugify(data)
        const example = slug === '' || slug === data ? '' : ` (e.g. \`${slug}\`)`
        return issue(
          `${subject(where)} \`${data}\` is not a valid id: use only lowercase letters, digits, \`_\`, \`.\` and \`-\`${example}`,
        )
      }
      return issue(
        `${subject(where)} must match the pattern ${String(p.pattern)} (got ${describeValue(data)})`,
      )
    }
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const word = {
        minimum: 'at least',
        exclusiveMinimum: 'more than',
        maximum: 'at most',
        exclusiveMaximum: 'less than',
      }[e.keyword]
      return issue(`${subject(where)} must be ${word} ${String(p.limit)} (got ${show(data)})`)
    }
    case 'minItems':
      if (!params && pointer === '/steps')
        return issue('the workflow has no steps; add at least one step', 'key')
      return issue(`${subject(where)} needs at least ${String(p.limit)} item(s)`)
    case 'maxItems':
      if (!params && pointer === '/steps') {
        return issue(
          `the workflow has ${Array.isArray(data) ? data.length : 'too many'} steps; the limit is ${MAX_STEPS}`,
          'key',
        )
      }
      return issue(`${subject(where)} has more than ${String(p.limit)} items`)
    case 'minLength':
      return issue(`${subject(where)} must not be empty`)
    case 'maxLength':
      return issue(`${subject(where)} is longer than ${String(p.limit)} characters`)
    case 'format':
      return issue(`${subject(where)} must be a valid ${String(p.format)} (got ${describeValue(data)})`)
    default:
      return issue(`${subject(where)} ${e.message ?? 'is invalid'}`)
  }
}

function missingMessage(missing: string, where: Where, pointer: string, params?: ParamsContext): string {
  if (params) {
    const inside = where.path === 'with' ? '`with`' : `\`${where.path}\``
    return `${where.label}: ${inside} is missing required parameter \`${missing}\` (action \`${params.action}\`)`
  }
  if (pointer === '') {
    if (missing === 'id')
      return 'the workflow has no `id` (add `id: my-workflow`, or a `name` to derive it from)'
    if (missing === 'steps') return 'the workflow has no `steps` (a list of at least one step)'
  }
  if (/^\/steps\/\d+$/.test(pointer)) {
    if (missing === 'id') return `${where.label} has no \`id\` (add one, or a \`name\` to derive it from)`
    if (missing === 'uses') return `${where.label} has no \`uses\` (the action to run, e.g. \`data.set\`)`
  }
  if (/^\/triggers\/\d+$/.test(pointer)) return `${where.label} needs \`${missing}\``
  return `${subject(where)} is missing required \`${missing}\``
}
