import { BACKOFF_KINDS, ON_ERROR, type JsonSchema } from './workflow.ts'

/**
 * JSON Schema (draft-07) of the canonical workflow document, the shape of `WorkflowDoc` in
 * `workflow.ts`. It checks structure only: keys, types, id patterns, ranges. What a schema cannot say
 * (step references, cycles, action parameters, expressions, durations) is checked by
 * `validate-workflow.ts`. The key lists below also drive the canonical key order and the "allowed
 * keys" of error messages, so the schema, the printer and the messages cannot drift apart.
 */

/** Workflow and step ids: lowercase letters, digits, `_`, `.`, `-`. */
export const ID_PATTERN = '^[a-z0-9_.-]+$'

export const WORKFLOW_KEYS = [
  'id',
  'name',
  'description',
  'enabled',
  'version',
  'kind',
  'tags',
  'inputs',
  'variables',
  'settings',
  'triggers',
  'steps',
  'output',
] as const

export const STEP_KEYS = [
  'id',
  'name',
  'description',
  'uses',
  'needs',
  'if',
  'foreach',
  'concurrency',
  'with',
  'retry',
  'timeout',
  'on_error',
  'ui',
] as const

export const RETRY_KEYS = ['attempts', 'backoff', 'delay', 'max_delay', 'jitter'] as const
export const SETTINGS_KEYS = ['timeout', 'concurrency', 'retry'] as const
export const NEED_KEYS = ['step', 'when'] as const

/** Keys every trigger may carry, whatever its type. */
export const TRIGGER_COMMON_KEYS = ['type', 'id', 'enabled', 'description'] as const

export const FILE_EVENTS = ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const

/** Most steps one workflow may have. */
export const MAX_STEPS = 1000

const durationSchema: JsonSchema = {
  description: 'Duration: `250ms`, `4s`, `5m`, `1h`, `1d`, compound `1m30s`, or a number of milliseconds.',
  type: ['string', 'number'],
  minimum: 0,
}

const filterSchema: JsonSchema = {
  description: 'A map of field equalities, or a CEL expression over the event.',
  type: ['object', 'string'],
}

/** Fields per trigger type (besides the common ones), and which of them are required. */
export const TRIGGER_TYPES: Record<string, { fields: Record<string, JsonSchema>; required: string[] }> = {
  manual: { fields: {}, required: [] },
  event: {
    fields: {
      event: {
        description: 'Event type, or a prefix ending in `.*` (`kpi.*`).',
        type: 'string',
        minLength: 1,
      },
      filter: filterSchema,
    },
    required: ['event'],
  },
  schedule: {
    fields: {
      cron: {
        description: 'Cron expression (5 or 6 fields, or @daily, @hourly, ...).',
        type: 'string',
        minLength: 1,
      },
      timezone: {
        description: 'IANA time zone, e.g. `Europe/Paris`; default: the configuration `timezone` (UTC).',
        type: 'string',
        minLength: 1,
      },
      catch_up: {
        description:
          'After downtime: `skip` missed ticks (default), or `1` to fire the latest missed tick once at start.',
        enum: ['skip', 1],
      },
    },
    required: ['cron'],
  },
  file_change: {
    fields: {
      paths: {
        description: 'Globs to watch.',
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
      },
      events: {
        description: 'File events that start the workflow; default add, change, unlink.',
        type: 'array',
        items: { enum: [...FILE_EVENTS] },
        minItems: 1,
      },
      ignore: { description: 'Globs of paths never reported.', type: 'array', items: { type: 'string' } },
      ignore_dotfiles: {
        description: 'Ignore files and directories whose name starts with `.` (default true).',
        type: 'boolean',
      },
      debounce: {
        ...durationSchema,
        description: `${String(durationSchema.description)} Quiet time per file before its change is reported; default 250ms.`,
      },
    },
    required: ['paths'],
  },
  webhook: {
    fields: {
      path: {
        description:
          'URL path under /hooks/ (`deploy`, `github/push`; a leading `/hooks/` is allowed): letters, digits and `._~-`, segments separated by `/`. One path belongs to one trigger.',
        type: 'string',
        maxLength: 200,
        pattern: '^/?[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?$',
      },
      signature: {
        description:
          'How callers prove they hold the secret: `standard` (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature; the default), `github` (X-Hub-Signature-256), or `none` (unsigned calls accepted; only when written).',
        enum: ['standard', 'github', 'none'],
      },
      secret: {
        description:
          'HMAC secret: `whsec_<base64>` (24+ bytes) for `standard`, any string for `github`; or `{{ secrets.NAME }}` to read it from the secret store.',
        type: 'string',
        minLength: 1,
      },
      secrets: {
        description: 'Several secrets, for rotation: a request signed with any one of them passes.',
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
      },
      respond: {
        description:
          '`immediately` (default): 202 with the run id once the event is stored; `on_completion`: wait for the run and answer with its output (200) or its error (500).',
        enum: ['immediately', 'on_completion'],
      },
      timeout: {
        ...durationSchema,
        description:
          'With `respond: on_completion`, the longest wait; after it the answer is 202 with the run id (default 30s).',
      },
    },
    required: ['path'],
  },
  activity: {
    fields: {
      event: { description: 'Activity event type; default `activity.*`.', type: 'string', minLength: 1 },
      filter: filterSchema,
    },
    required: [],
  },
  escalation: {
    fields: {
      event: { description: 'Escalation event type; default `escalation.*`.', type: 'string', minLength: 1 },
      filter: filterSchema,
    },
    required: [],
  },
}

/** Allowed keys of a trigger of the given type, in canonical order. */
export function triggerKeys(type: string): string[] {
  return [...TRIGGER_COMMON_KEYS, ...Object.keys(TRIGGER_TYPES[type]?.fields ?? {})]
}

/** Schemas of the keys every trigger may carry (plugin trigger types get them too). */
export const TRIGGER_COMMON_FIELDS: Readonly<Record<string, JsonSchema>> = {
  type: { type: 'string' },
  id: { type: 'string', pattern: ID_PATTERN },
  enabled: { type: 'boolean' },
  description: { type: 'string' },
}

const retrySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    attempts: {
      description: 'Total attempts including the first; 1 means no retry.',
      type: 'integer',
      minimum: 1,
    },
    backoff: { enum: [...BACKOFF_KINDS] },
    delay: durationSchema,
    max_delay: durationSchema,
    jitter: {
      description: 'Random spread of each delay, 0..1 (default 0.2).',
      type: 'number',
      minimum: 0,
      maximum: 1,
    },
  },
}

const needSchema: JsonSchema = {
  description: 'A step id, or `{step, when}` where `when` is success, failure, always or a CEL expression.',
  if: { type: 'string' },
  then: { type: 'string', minLength: 1 },
  else: {
    type: 'object',
    required: ['step'],
    additionalProperties: false,
    properties: {
      step: { type: 'string', minLength: 1 },
      when: { type: 'string', minLength: 1 },
    },
  },
}

const stepSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'uses'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: ID_PATTERN },
    name: { type: 'string' },
    description: { type: 'string' },
    uses: { description: 'Action type, e.g. `data.set`.', type: 'string', minLength: 1 },
    needs: { type: 'array', items: { $ref: '#/definitions/need' } },
    if: { description: 'CEL condition; the step is skipped when false.', type: 'string', minLength: 1 },
    foreach: {
      description: 'CEL expression yielding a list; one iteration per item.',
      type: 'string',
      minLength: 1,
    },
    concurrency: {
      description: 'Parallel iterations of a foreach step (default 1).',
      type: 'integer',
      minimum: 1,
    },
    with: { description: 'Action parameters; strings may hold `{{ CEL }}` templates.', type: 'object' },
    retry: { $ref: '#/definitions/retry' },
    timeout: { $ref: '#/definitions/duration' },
    on_error: { enum: [...ON_ERROR] },
    ui: {
      description: 'Position in the web builder.',
      type: 'object',
      required: ['x', 'y'],
      additionalProperties: false,
      properties: { x: { type: 'number' }, y: { type: 'number' } },
    },
  },
}

const triggerSchema: JsonSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: Object.keys(TRIGGER_TYPES) } },
  allOf: Object.entries(TRIGGER_TYPES).map(([type, spec]) => ({
    if: { type: 'object', properties: { type: { const: type } }, required: ['type'] },
    then: {
      type: 'object',
      required: spec.required,
      additionalProperties: false,
      properties: { ...TRIGGER_COMMON_FIELDS, ...spec.fields },
    },
  })),
}

export const WORKFLOW_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://homeostat.dev/schemas/workflow.json',
  title: 'homeostat workflow (canonical form)',
  type: 'object',
  required: ['id', 'steps'],
  additionalProperties: false,
  properties: {
    id: { description: 'Unique workflow id.', type: 'string', pattern: ID_PATTERN },
    name: { type: 'string' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    version: {
      description: 'Assigned by the store on every change; a written value is replaced.',
      type: 'integer',
      minimum: 1,
    },
    kind: { description: 'e.g. `playbook`.', type: 'string', pattern: ID_PATTERN },
    tags: { type: 'array', items: { type: 'string', minLength: 1 } },
    inputs: {
      description: 'JSON Schema per input name.',
      type: 'object',
      additionalProperties: { type: 'object' },
    },
    variables: { description: 'Named values (templates allowed) available as `vars`.', type: 'object' },
    settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeout: { $ref: '#/definitions/duration' },
        concurrency: {
          description: 'Most steps of one run executing at once (default 10).',
          type: 'integer',
          minimum: 1,
        },
        retry: { $ref: '#/definitions/retry' },
      },
    },
    triggers: { type: 'array', items: { $ref: '#/definitions/trigger' } },
    steps: { type: 'array', minItems: 1, maxItems: MAX_STEPS, items: { $ref: '#/definitions/step' } },
    output: { description: "Template for the run's output." },
  },
  definitions: {
    duration: durationSchema,
    retry: retrySchema,
    need: needSchema,
    step: stepSchema,
    trigger: triggerSchema,
  },
}
