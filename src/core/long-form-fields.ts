import { isPlainObject, join, ordered, setOwn } from './json-pointer.ts'
import type { LongFormContext } from './origins.ts'
import { unknownKey } from './suggest.ts'
import { RETRY_KEYS, triggerKeys } from './workflow-schema.ts'

/** Readers for the long-form workflow fields of the source documents (see docs/workflow-format.md). */

const BACKOFF_ALIASES: Record<string, string> = {
  constant: 'fixed',
  fixed: 'fixed',
  linear: 'linear',
  exponential: 'exponential',
}

/** `variables` as a list of `{name, value | default}` → a map. */
export function readVariables(list: unknown[], ctx: LongFormContext): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  list.forEach((item, i) => {
    const at = join('/variables', i)
    if (!isPlainObject(item) || typeof item.name !== 'string' || item.name === '') {
      ctx.issue(
        at,
        'a variable in list form needs `name` and `value` (or `default`), e.g. `- {name: target, value: prod}`',
      )
      return
    }
    for (const key of Object.keys(item)) {
      if (!['name', 'value', 'default', 'type', 'description'].includes(key)) {
        ctx.issue(
          join(at, key),
          unknownKey(key, `variable \`${item.name}\``, ['name', 'value', 'default', 'type', 'description']),
          'key',
        )
      }
    }
    if (Object.hasOwn(out, item.name)) {
      ctx.issue(join(at, 'name'), `duplicate variable \`${item.name}\``)
      return
    }
    const from = Object.hasOwn(item, 'value')
      ? 'value'
      : Object.hasOwn(item, 'default')
        ? 'default'
        : undefined
    setOwn(out, item.name, from === undefined ? null : item[from])
    ctx.origins.set(join('/variables', item.name), from === undefined ? at : join(at, from))
  })
  return out
}

/** Long-form `retryPolicy` → canonical `retry`; unknown keys are kept for the schema to report. */
export function readRetryPolicy(raw: unknown, at: string, ctx: LongFormContext): unknown {
  if (!isPlainObject(raw)) return raw
  const aliases: Record<string, string> = {
    maxAttempts: 'attempts',
    initialDelay: 'delay',
    maxDelay: 'max_delay',
    backoffStrategy: 'backoff',
    strategy: 'backoff',
  }
  const out: Record<string, unknown> = {}
  const canonicalAt = at.endsWith('/retryPolicy') ? at.slice(0, -'retryPolicy'.length) + 'retry' : at
  for (const [key, value] of Object.entries(raw)) {
    let target = aliases[key] ?? key
    let v = value
    if (key === 'maxRetries' && typeof value === 'number') {
      target = 'attempts'
      v = value + 1
    }
    if (target === 'backoff' && typeof v === 'string') v = BACKOFF_ALIASES[v] ?? v
    if (Object.hasOwn(out, target)) {
      ctx.issue(join(at, key), `retry policy sets \`${target}\` twice (\`${key}\`); keep one`, 'key')
      continue
    }
    setOwn(out, target, v)
    if (target !== key) ctx.origins.set(join(canonicalAt, target), join(at, key))
  }
  return ordered(out, RETRY_KEYS)
}

/** A trigger with its settings under `config` → flat; file_change `path`/`pattern` → `paths`. */
export function readTrigger(raw: unknown, i: number, ctx: LongFormContext): unknown {
  if (!isPlainObject(raw)) return raw
  const at = join('/triggers', i)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) if (key !== 'config') setOwn(out, key, value)
  const config = raw.config
  if (config !== undefined && !isPlainObject(config))
    ctx.issue(join(at, 'config'), 'trigger `config` must be a mapping')
  if (isPlainObject(config)) {
    for (const [key, value] of Object.entries(config)) {
      if (Object.hasOwn(out, key)) {
        ctx.issue(
          join(at, 'config', key),
          `trigger sets \`${key}\` both in \`config\` and directly; keep one`,
          'key',
        )
        continue
      }
      setOwn(out, key, value)
      ctx.origins.set(join(at, key), join(at, 'config', key))
    }
  }
  if (out.type === 'file_change') fileChangePaths(out, at, ctx)
  return ordered(out, triggerKeys(typeof out.type === 'string' ? out.type : ''))
}

/** file_change: `path`/`pattern` (long form) or a single string → `paths: [...]`. */
function fileChangePaths(t: Record<string, unknown>, at: string, ctx: LongFormContext): void {
  const pick = t.pattern !== undefined ? 'pattern' : t.path !== undefined ? 'path' : undefined
  if (pick !== undefined && t.paths === undefined) {
    const written = ctx.origins.resolve(join(at, pick))
    t.paths = Array.isArray(t[pick]) ? t[pick] : [t[pick]]
    ctx.origins.set(join(at, 'paths'), written)
    if (!Array.isArray(t[pick])) ctx.origins.set(join(at, 'paths', 0), written)
    delete t.pattern
    delete t.path
  } else if (typeof t.paths === 'string') {
    t.paths = [t.paths]
    ctx.origins.set(join(at, 'paths', 0), ctx.origins.resolve(join(at, 'paths')))
  }
}
