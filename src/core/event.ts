/**
 * The CloudEvents 1.0 envelope every stimulus becomes (DESIGN.md "Data flow"). Pure: parsing the HTTP
 * bindings happens in `api/`, storing in `store/`; this file says what a valid event is.
 */

export interface CloudEvent<T = unknown> {
  specversion: '1.0'
  /** Unique per `source`; (source, id) deduplicates. */
  id: string
  /** URI-reference of the producer, e.g. `/services/test-quality-monitor` or `homeostat://cli`. */
  source: string
  /** Dotted type, e.g. `test_quality.healing_required`. */
  type: string
  /** RFC 3339 time the event happened. */
  time?: string
  subject?: string
  datacontenttype?: string
  dataschema?: string
  data?: T
  /** Extension attributes: lowercase alphanumeric names. */
  [extension: string]: unknown
}

export interface EnvelopeProblem {
  pointer: string
  message: string
}

export const EVENT_TYPE_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/i
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/
const REQUIRED = ['id', 'source', 'type'] as const
const STRING_ATTRS = ['id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'dataschema'] as const

/**
 * Checks a CloudEvents 1.0 envelope (structured form, `data` as JSON) and returns every problem at
 * once, each with a JSON pointer. Missing `id`, `time` and `source` are filled from `defaults`
 * (the plain `{type, data}` convenience form), so callers pass what they received.
 */
export function toCloudEvent(
  input: unknown,
  defaults: { id: () => string; source: string; now: () => Date },
): { event: CloudEvent; problems: [] } | { event?: undefined; problems: EnvelopeProblem[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { problems: [{ pointer: '', message: 'an event must be a JSON object' }] }
  }
  const raw = input as Record<string, unknown>
  const problems: EnvelopeProblem[] = []
  const event: Record<string, unknown> = { ...raw }
  if (event.specversion === undefined) event.specversion = '1.0'
  else if (event.specversion !== '1.0')
    problems.push({
      pointer: '/specversion',
      message: `specversion must be "1.0", got ${JSON.stringify(event.specversion)}`,
    })
  event.id ??= defaults.id()
  event.source ??= defaults.source
  event.time ??= defaults.now().toISOString()
  for (const attr of STRING_ATTRS) {
    if (event[attr] !== undefined && (typeof event[attr] !== 'string' || event[attr] === '')) {
      problems.push({ pointer: `/${attr}`, message: `${attr} must be a non-empty string` })
    }
  }
  for (const attr of REQUIRED) {
    if (event[attr] === undefined) problems.push({ pointer: `/${attr}`, message: `${attr} is required` })
  }
  if (typeof event.type === 'string' && !EVENT_TYPE_PATTERN.test(event.type)) {
    problems.push({
      pointer: '/type',
      message: `type must be dotted words of [a-z0-9_], e.g. kpi.threshold_breach; got ${JSON.stringify(event.type)}`,
    })
  }
  if (typeof event.time === 'string' && Number.isNaN(Date.parse(event.time))) {
    problems.push({
      pointer: '/time',
      message: `time must be an RFC 3339 timestamp, got ${JSON.stringify(event.time)}`,
    })
  }
  if ('data_base64' in event)
    problems.push({ pointer: '/data_base64', message: 'binary data is not supported; send JSON data' })
  for (const key of Object.keys(event)) {
    if (key === 'data' || (STRING_ATTRS as readonly string[]).includes(key) || key === 'specversion') continue
    if (!EXTENSION_NAME.test(key)) {
      problems.push({
        pointer: `/${key}`,
        message: `extension attribute names are 1-20 lowercase letters or digits; got ${JSON.stringify(key)}`,
      })
    }
  }
  if (problems.length > 0) return { problems }
  return { event: event as CloudEvent, problems: [] }
}
