import type { ActionDefinition } from '../core/action.ts'
import { NonRetryableError } from '../core/errors.ts'
import { compileExpression, ExpressionError, type Expression } from '../core/expr/index.ts'
import { evaluateTransform, TRANSFORM_LIMITS } from './data/jsonata-sandbox.ts'

/**
 * The data family: `data.set`, `data.transform` (JSONata), `data.filter` (a CEL condition per item)
 * and `data.aggregate` (group and summarise). All are pure: no side effects, they run for real in a
 * dry run. docs/actions-data-chat.md has examples of each.
 */

/** Most items `data.filter` and `data.aggregate` take in one step. */
export const MAX_ITEMS = 100_000

/** `data.set`: outputs its parameters as they are after templates were rendered. */
export const dataSet: ActionDefinition<Record<string, unknown>, Record<string, unknown>> = {
  type: 'data.set',
  description: 'Outputs the given object (templates rendered): name values for later steps.',
  params: {
    type: 'object',
    description: 'Any object; every key becomes a field of the output',
    additionalProperties: true,
  },
  output: { type: 'object', description: 'The parameters, as rendered', additionalProperties: true },
  sideEffects: false,
  execute: (params) => params,
}

export interface TransformParams {
  expression: string
  input?: unknown
  bindings?: Record<string, unknown>
}

/** `data.transform`: a JSONata expression over `input` (default: the run's trigger and step outputs). */
export const dataTransform: ActionDefinition<TransformParams, { result: unknown }> = {
  type: 'data.transform',
  description:
    'Evaluates a JSONata expression over `input` (default: the run context `{ trigger, steps }`); bounded in time, depth and size.',
  params: {
    type: 'object',
    properties: {
      expression: {
        type: 'string',
        minLength: 1,
        maxLength: TRANSFORM_LIMITS.maxSource,
        description:
          'JSONata expression, e.g. `orders[total > 100].{"id": id, "due": total * 1.2}`; no `{{ }}` needed',
      },
      input: {
        description:
          'The data the expression reads as `$` (any JSON); default: the run context `{ trigger, steps }`',
      },
      bindings: {
        type: 'object',
        description: 'Extra variables, each readable as `$name` in the expression',
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        additionalProperties: true,
      },
    },
    required: ['expression'],
    additionalProperties: false,
  },
  output: {
    type: 'object',
    properties: {
      result: { description: 'What the expression returned (null when it matched nothing)' },
    },
    required: ['result'],
    additionalProperties: false,
  },
  sideEffects: false,
  execute: async (params, ctx) => {
    const input = 'input' in params ? params.input : ctx.context()
    const result = await evaluateTransform(params.expression, input, {
      ...(params.bindings ? { bindings: params.bindings } : {}),
      signal: ctx.signal,
    })
    return { result }
  },
}

export interface FilterParams {
  items: unknown[]
  condition: string
  limit?: number
}

function compileCondition(source: string, param: string): Expression {
  try {
    return compileExpression(source)
  } catch (err) {
    if (err instanceof ExpressionError)
      throw new NonRetryableError(`${param}: ${err.message}`, { cause: err })
    throw err
  }
}

/** `data.filter`: keeps the items for which a CEL condition (with `item` and `index`) is true. */
export const dataFilter: ActionDefinition<FilterParams, { items: unknown[]; count: number; total: number }> =
  {
    type: 'data.filter',
    description: 'Keeps the items for which a CEL condition is true (`item` and `index` in scope).',
    params: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          maxItems: MAX_ITEMS,
          description: 'The list to filter, e.g. `{{ steps.fetch.output.body.items }}`',
        },
        condition: {
          type: 'string',
          minLength: 1,
          description:
            'CEL condition evaluated per item, written without `{{ }}`: `item.severity == "CRITICAL" && index < 10`',
        },
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_ITEMS,
          description: 'Stop after this many matches (default: keep every match)',
        },
      },
      required: ['items', 'condition'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        items: { type: 'array', description: 'The matching items, in their original order' },
        count: { type: 'integer', description: 'How many items matched (and were kept)' },
        total: { type: 'integer', description: 'How many items were given' },
      },
      required: ['items', 'count', 'total'],
      additionalProperties: false,
    },
    sideEffects: false,
    execute: async (params, ctx) => {
      const condition = compileCondition(params.condition, 'condition')
      const kept: unknown[] = []
      const limit = params.limit ?? Infinity
      for (let index = 0; index < params.items.length && kept.length < limit; index++) {
        if (ctx.signal.aborted) throw ctx.signal.reason as Error
        const item = params.items[index]
        let verdict: unknown
        try {
          verdict = condition.evaluate({ item, index })
        } catch (err) {
          throw new NonRetryableError(`condition failed on item ${index}: ${(err as Error).message}`, {
            cause: err,
          })
        }
        if (typeof verdict !== 'boolean')
          throw new NonRetryableError(
            `condition gave ${JSON.stringify(verdict)} for item ${index}, not true or false; compare with ==, <, in, has()`,
          )
        if (verdict) kept.push(item)
      }
      return { items: kept, count: kept.length, total: params.items.length }
    },
  }

/** What `data.aggregate` computes per group. */
export const AGGREGATE_OPS = ['count', 'sum', 'avg', 'min', 'max', 'collect'] as const
export type AggregateOp = (typeof AGGREGATE_OPS)[number]

export interface AggregateParams {
  items: unknown[]
  group_by?: string | string[]
  metrics?: Record<string, { op: AggregateOp; field?: string }>
}

export interface AggregateGroup {
  key: Record<string, unknown>
  count: number
  [metric: string]: unknown
}

const PATH = '^[^.]+(\\.[^.]+)*$'

/** The value at a dotted path (`customer.address.city`, `lines.0.sku`), reading own properties only. */
export function valueAt(value: unknown, path: string): unknown {
  let current = value
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined
      current = current[Number(segment)]
    } else {
      if (!Object.hasOwn(current, segment)) return undefined
      current = (current as Record<string, unknown>)[segment]
    }
  }
  return current
}

interface Accumulator {
  key: Record<string, unknown>
  count: number
  values: Map<string, unknown[]>
}

function summarise(name: string, op: AggregateOp, field: string | undefined, values: unknown[]): unknown {
  if (op === 'collect') return values
  if (op === 'count') return values.length
  const kind = values.length === 0 ? 'number' : typeof values[0]
  const bad = values.findIndex((v) => typeof v !== (op === 'min' || op === 'max' ? kind : 'number'))
  if (bad >= 0 || (kind !== 'number' && kind !== 'string'))
    throw new NonRetryableError(
      `metrics.${name}: ${op} of \`${field}\` needs ${op === 'min' || op === 'max' ? 'all numbers or all strings' : 'numbers'}, but a value is ${JSON.stringify(values[Math.max(bad, 0)])}`,
    )
  if (op === 'sum') return (values as number[]).reduce((a, b) => a + b, 0)
  if (values.length === 0) return null
  if (op === 'avg') return (values as number[]).reduce((a, b) => a + b, 0) / values.length
  const better =
    op === 'min'
      ? (a: unknown, b: unknown) => (b as never) < (a as never)
      : (a: unknown, b: unknown) => (b as never) > (a as never)
  return values.reduce((a, b) => (better(a, b) ? b : a))
}

/** `data.aggregate`: groups items by dotted paths and computes count/sum/avg/min/max/collect per group. */
export const dataAggregate: ActionDefinition<AggregateParams, { groups: AggregateGroup[]; total: number }> = {
  type: 'data.aggregate',
  description:
    'Groups items by fields (dotted paths) and computes count, sum, avg, min, max or collect per group.',
  params: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        maxItems: MAX_ITEMS,
        description: 'The list to aggregate, e.g. `{{ steps.fetch.output.body.orders }}`',
      },
      group_by: {
        description:
          'Dotted path(s) whose values form a group: `region` or `[customer.region, status]`; default: one group',
        anyOf: [
          { type: 'string', pattern: PATH },
          { type: 'array', items: { type: 'string', pattern: PATH }, minItems: 1, maxItems: 16 },
        ],
      },
      metrics: {
        type: 'object',
        description:
          'Output name → `{ op, field }`, e.g. `revenue: { op: sum, field: total }`; every group also has `count`',
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', not: { enum: ['key', 'count'] } },
        additionalProperties: {
          type: 'object',
          properties: {
            op: {
              enum: [...AGGREGATE_OPS],
              description: 'What to compute over the field’s values in a group',
            },
            field: {
              type: 'string',
              pattern: PATH,
              description:
                'Dotted path of the value (items without it are skipped); required except for `count`, which then counts items',
            },
          },
          required: ['op'],
          additionalProperties: false,
        },
      },
    },
    required: ['items'],
    additionalProperties: false,
  },
  output: {
    type: 'object',
    properties: {
      groups: {
        type: 'array',
        description: 'One entry per group, in order of first appearance: `{ key, count, <metric>... }`',
        items: {
          type: 'object',
          properties: {
            key: { type: 'object', description: 'The group_by paths and their values in this group' },
            count: { type: 'integer', description: 'Items in the group' },
          },
          required: ['key', 'count'],
          additionalProperties: true,
        },
      },
      total: { type: 'integer', description: 'How many items were given' },
    },
    required: ['groups', 'total'],
    additionalProperties: false,
  },
  sideEffects: false,
  execute: async (params, ctx) => {
    const paths = params.group_by === undefined ? [] : [params.group_by].flat()
    const metrics = Object.entries(params.metrics ?? {})
    for (const [name, m] of metrics) {
      if (m.op !== 'count' && m.field === undefined)
        throw new NonRetryableError(`metrics.${name}: \`${m.op}\` needs a \`field\` (a dotted path)`)
    }
    const groups = new Map<string, Accumulator>()
    params.items.forEach((item, index) => {
      if (index % 1024 === 0 && ctx.signal.aborted) throw ctx.signal.reason as Error
      const keyValues = paths.map((p) => valueAt(item, p) ?? null)
      const id = JSON.stringify(keyValues)
      let group = groups.get(id)
      if (!group) {
        group = {
          key: Object.fromEntries(paths.map((p, i) => [p, keyValues[i]])),
          count: 0,
          values: new Map(metrics.map(([name]) => [name, []])),
        }
        groups.set(id, group)
      }
      group.count++
      for (const [name, m] of metrics) {
        const value = m.field === undefined ? item : valueAt(item, m.field)
        if (value !== undefined && value !== null) group.values.get(name)!.push(value)
      }
    })
    return {
      groups: [...groups.values()].map((g) => ({
        key: g.key,
        count: g.count,
        ...Object.fromEntries(
          metrics.map(([name, m]) => [name, summarise(name, m.op, m.field, g.values.get(name)!)]),
        ),
      })),
      total: params.items.length,
    }
  },
}

/** The data family, registered by `builtinActions`. */
export function dataActions(): ActionDefinition[] {
  return [dataSet, dataTransform, dataFilter, dataAggregate] as unknown as ActionDefinition[]
}
