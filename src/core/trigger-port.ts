import type { JsonSchema, TriggerSpec } from './workflow.ts'

/**
 * The trigger-source interface: what turns a stimulus (a clock tick, a file change, a plugin's
 * message) into events for ONE trigger of ONE workflow. The built-in `schedule` and `file_change`
 * sources implement it, and so do plugin triggers (`definePlugin({ triggers: [...] })`).
 *
 * Every event a source emits is *targeted* (docs/triggers.md): the trigger manager adds
 * `data.workflow_id` and `data.trigger_id`, publishes it through the mesh ingest (stored,
 * deduplicated by (source, id), audited, explainable), and the router starts that trigger only.
 */

/** Keys of a targeted event's `data` that name the trigger it is for. */
export const TARGET_WORKFLOW_KEY = 'workflow_id'
export const TARGET_TRIGGER_KEY = 'trigger_id'

/** Event types of the built-in trigger sources. */
export const SCHEDULE_TICK = 'schedule.tick'
export const FILE_CHANGED = 'file.changed'
export const WEBHOOK_RECEIVED = 'webhook.received'

/** Plugin trigger types: lowercase letters, digits and `_`, starting with a letter. */
export const PLUGIN_TRIGGER_TYPE_PATTERN = /^[a-z][a-z0-9_]*$/

/** Event type of a plugin trigger type's events: `trigger.<type>`. */
export function pluginTriggerEventType(type: string): string {
  return `trigger.${type}`
}

/**
 * How a trigger is named in targeted events and in the trigger state: its `id` when it has one,
 * else its 0-based index in `triggers` as a string.
 */
export function triggerKey(trigger: TriggerSpec, index: number): string {
  return typeof trigger.id === 'string' && trigger.id !== '' ? trigger.id : String(index)
}

/** The trigger a source runs for. */
export interface TriggerTarget {
  readonly workflowId: string
  /** `triggerKey(trigger, index)`: the trigger's `id`, or its index as a string. */
  readonly triggerId: string
  /** 0-based index in the workflow's `triggers`. */
  readonly triggerIndex: number
}

export interface TriggerEmitOptions {
  /**
   * Event id; with the source (`homeostat://triggers/<workflow>/<trigger>`) it deduplicates, so an id
   * derived from the stimulus (a tick time, a message id) makes a repeated stimulus start one run.
   * Default: a fresh id.
   */
  id?: string
  subject?: string
  /** RFC 3339 time the stimulus happened; default: now. */
  time?: string
}

export interface TriggerEmitResult {
  /** The event's id. */
  id: string
  /** False when the event was not taken: the trigger was stopped, or the event was rejected (`problems`). */
  accepted: boolean
  problems?: Array<{ pointer: string; message: string }>
}

export interface TriggerLogger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** What a running source gets from the trigger manager. */
export interface TriggerSourceContext {
  /**
   * Publishes one event for this trigger. `data` becomes the event's data, plus `workflow_id` and
   * `trigger_id` (which a source cannot override); its fields reach the run as `trigger.<field>` in
   * camelCase (`file_path` → `trigger.filePath`). Resolves once the event is stored and routed.
   * After the trigger is stopped it publishes nothing and resolves `{ accepted: false }`.
   */
  emit(data: Record<string, unknown>, options?: TriggerEmitOptions): Promise<TriggerEmitResult>
  /** Aborted when the trigger is stopped; long operations (connections, polls) must honour it. */
  readonly signal: AbortSignal
  readonly logger: TriggerLogger
  /**
   * True when the trigger starts with the server (time may have passed while nothing ran: a
   * schedule may catch up); false when it starts because its workflow was added, edited or enabled.
   */
  readonly startup: boolean
  /** IANA time zone from the configuration (`timezone`), for triggers that name none. */
  readonly timezone: string
  /** Directory relative paths are resolved against (the configuration file's). */
  readonly baseDir: string
}

/**
 * Why a trigger stops: `shutdown` (the server stops; it resumes at the next start) or `changed`
 * (its workflow was disabled, removed or edited, or the trigger itself was).
 */
export type TriggerStopReason = 'shutdown' | 'changed'

/** Stops what `start` started (timers, watchers, connections); must not throw. */
export type TriggerStop = (reason: TriggerStopReason) => void | Promise<void>

/**
 * A trigger type. `fields` are JSON Schemas of the trigger's own keys (besides `type`, `id`,
 * `enabled`, `description`); the workflow validator checks them, so `start` gets a checked trigger.
 */
export interface TriggerSourceDefinition<T extends TriggerSpec = TriggerSpec> {
  /** The `type:` workflows write, e.g. `mqtt_message` (see PLUGIN_TRIGGER_TYPE_PATTERN). */
  readonly type: string
  readonly description: string
  /** JSON Schema per field, each with a `description` (shown by the builder). */
  readonly fields: Readonly<Record<string, JsonSchema>>
  /** Fields a trigger of this type must have. */
  readonly required?: readonly string[]
  /** Starts watching for one trigger; returns how to stop. A throw is logged and the trigger stays off. */
  start(trigger: T, target: TriggerTarget, ctx: TriggerSourceContext): TriggerStop | Promise<TriggerStop>
}

/**
 * Per-trigger state kept in the store: the latest schedule tick a trigger has handled (fired, or
 * deliberately skipped), so a restart knows which ticks it missed.
 */
export interface TriggerStateStore {
  /** Milliseconds since the epoch of the latest handled tick, or undefined for a trigger never seen. */
  lastTick(workflowId: string, triggerId: string): Promise<number | undefined>
  /** Records `tick` as handled; a value earlier than the one stored is ignored (ticks only move forward). */
  setLastTick(workflowId: string, triggerId: string, tick: number): Promise<void>
}
