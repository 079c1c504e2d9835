import { canonicalJson } from '../core/canonical-json.ts'
import type { EventPublisher, PublishedEvent } from '../core/publisher-port.ts'
import {
  FILE_CHANGED,
  pluginTriggerEventType,
  SCHEDULE_TICK,
  TARGET_TRIGGER_KEY,
  TARGET_WORKFLOW_KEY,
  triggerKey,
  type TriggerEmitOptions,
  type TriggerEmitResult,
  type TriggerLogger,
  type TriggerSourceContext,
  type TriggerSourceDefinition,
  type TriggerStop,
  type TriggerStopReason,
} from '../core/trigger-port.ts'
import type { TriggerSpec, WorkflowDoc } from '../core/workflow.ts'

/**
 * Runs every trigger source of the workflows in force: starts the sources of enabled triggers of
 * enabled workflows, and on every change of the registry (reload, enable, disable, rollback) stops
 * those that went away or changed and starts the new ones — so a disabled workflow leaves no timer
 * and no watcher behind. A trigger whose fields did not change keeps running across a reload (a file
 * watcher keeps its debounce, a schedule its timer). Events go through the mesh ingest, targeted.
 */

/** What the manager needs of the workflow registry. */
export interface TriggerWorkflows {
  inLoadOrder(): ReadonlyArray<{ id: string; enabled: boolean; doc: WorkflowDoc }>
  onChange(listener: () => void): () => void
}

export interface TriggerManagerOptions {
  workflows: TriggerWorkflows
  /** The mesh ingest. */
  publisher: EventPublisher
  /** Built-in and plugin sources; a trigger type without one (`manual`, `event`, `webhook`) is not run here. */
  sources: readonly TriggerSourceDefinition<never>[]
  /** Default time zone of schedules (config `timezone`). */
  timezone: string
  /** Config base directory (relative globs start there). */
  baseDir: string
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void
}

/** A trigger the manager runs now. */
export interface ActiveTrigger {
  workflowId: string
  triggerId: string
  type: string
}

/** A trigger that could not start; it stays off until its workflow changes. */
export interface TriggerProblem extends ActiveTrigger {
  message: string
}

interface Wanted extends ActiveTrigger {
  trigger: TriggerSpec
  index: number
  source: TriggerSourceDefinition
  fingerprint: string
}

interface Running {
  wanted: Wanted
  abort: AbortController
  stop: TriggerStop
}

const BUILT_IN_EVENT_TYPES: Readonly<Record<string, string>> = {
  schedule: SCHEDULE_TICK,
  file_change: FILE_CHANGED,
}

export class TriggerManager {
  readonly #o: TriggerManagerOptions
  readonly #sources: Map<string, TriggerSourceDefinition>
  readonly #running = new Map<string, Running>()
  /** Triggers that failed to start, with the fingerprint they failed with: retried once they change. */
  readonly #problems = new Map<string, { problem: TriggerProblem; fingerprint: string }>()
  #chain: Promise<void> = Promise.resolve()
  #queued = false
  #unsubscribe: (() => void) | undefined
  #closed = false

  constructor(options: TriggerManagerOptions) {
    this.#o = options
    this.#sources = new Map(options.sources.map((s) => [s.type, s as TriggerSourceDefinition]))
  }

  /** Starts the triggers of the workflows in force (startup: schedules may catch up) and follows changes. */
  async start(): Promise<void> {
    this.#unsubscribe ??= this.#o.workflows.onChange(() => void this.#enqueue(false))
    await this.#enqueue(true)
  }

  /** Resolves once every change seen so far has been applied (triggers started and stopped). */
  settled(): Promise<void> {
    return this.#chain
  }

  /** Stops every trigger (`shutdown`) and stops following changes. */
  async stop(): Promise<void> {
    this.#closed = true
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    await this.#chain
    await Promise.all([...this.#running.keys()].map((key) => this.#stopOne(key, 'shutdown')))
  }

  active(): ActiveTrigger[] {
    return [...this.#running.values()].map(({ wanted: { workflowId, triggerId, type } }) => ({
      workflowId,
      triggerId,
      type,
    }))
  }

  problems(): TriggerProblem[] {
    return [...this.#problems.values()].map((p) => p.problem)
  }

  #enqueue(startup: boolean): Promise<void> {
    if (this.#queued) return this.#chain
    this.#queued = true
    this.#chain = this.#chain.then(async () => {
      this.#queued = false
      if (this.#closed) return
      try {
        await this.#sync(startup)
      } catch (err) {
        this.#log('error', 'applying trigger changes failed', { error: (err as Error).message })
      }
    })
    return this.#chain
  }

  #wanted(): Map<string, Wanted> {
    const wanted = new Map<string, Wanted>()
    for (const entry of this.#o.workflows.inLoadOrder()) {
      if (!entry.enabled) continue
      ;(entry.doc.triggers ?? []).forEach((trigger, index) => {
        const source = this.#sources.get(trigger.type)
        if (source === undefined || trigger.enabled === false) return
        const triggerId = triggerKey(trigger, index)
        wanted.set(`${entry.id}\u0000${triggerId}`, {
          workflowId: entry.id,
          triggerId,
          type: trigger.type,
          trigger,
          index,
          source,
          fingerprint: canonicalJson({ trigger, index }),
        })
      })
    }
    return wanted
  }

  async #sync(startup: boolean): Promise<void> {
    const wanted = this.#wanted()
    const stale = [...this.#running].filter(
      ([key, r]) => wanted.get(key)?.fingerprint !== r.wanted.fingerprint,
    )
    await Promise.all(stale.map(([key]) => this.#stopOne(key, 'changed')))
    for (const [key, p] of this.#problems)
      if (wanted.get(key)?.fingerprint !== p.fingerprint) this.#problems.delete(key)
    await Promise.all(
      [...wanted]
        .filter(([key]) => !this.#running.has(key) && !this.#problems.has(key))
        .map(([key, w]) => this.#startOne(key, w, startup)),
    )
  }

  async #startOne(key: string, wanted: Wanted, startup: boolean): Promise<void> {
    const abort = new AbortController()
    const { workflowId, triggerId, index: triggerIndex } = wanted
    const logger = this.#logger(workflowId, triggerId)
    const ctx: TriggerSourceContext = {
      emit: (data, options) => this.#emit(wanted, abort.signal, data, options),
      signal: abort.signal,
      logger,
      startup,
      timezone: this.#o.timezone,
      baseDir: this.#o.baseDir,
    }
    try {
      const stop = await wanted.source.start(wanted.trigger, { workflowId, triggerId, triggerIndex }, ctx)
      if (typeof stop !== 'function') throw new Error('start() must return a stop function')
      this.#running.set(key, { wanted, abort, stop })
    } catch (err) {
      abort.abort()
      const message = err instanceof Error ? err.message : String(err)
      logger.error(`trigger not started: ${message}`)
      this.#problems.set(key, {
        problem: { workflowId, triggerId, type: wanted.type, message },
        fingerprint: wanted.fingerprint,
      })
    }
  }

  async #stopOne(key: string, reason: TriggerStopReason): Promise<void> {
    const running = this.#running.get(key)
    if (!running) return
    this.#running.delete(key)
    running.abort.abort()
    try {
      await running.stop(reason)
    } catch (err) {
      this.#logger(running.wanted.workflowId, running.wanted.triggerId).error(
        'trigger did not stop cleanly',
        {
          error: (err as Error).message,
        },
      )
    }
  }

  async #emit(
    wanted: Wanted,
    signal: AbortSignal,
    data: Record<string, unknown>,
    options: TriggerEmitOptions = {},
  ): Promise<TriggerEmitResult> {
    if (signal.aborted) return { id: options.id ?? '', accepted: false }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new TypeError(
        `emit(data): data must be a mapping, not ${Array.isArray(data) ? 'a list' : typeof data}`,
      )
    const event: PublishedEvent & { time?: string } = {
      type: BUILT_IN_EVENT_TYPES[wanted.type] ?? pluginTriggerEventType(wanted.type),
      source: `homeostat://triggers/${encodeURIComponent(wanted.workflowId)}/${encodeURIComponent(wanted.triggerId)}`,
      ...(options.id !== undefined ? { id: options.id } : {}),
      ...(options.subject !== undefined ? { subject: options.subject } : {}),
      ...(options.time !== undefined ? { time: options.time } : {}),
      data: { ...data, [TARGET_WORKFLOW_KEY]: wanted.workflowId, [TARGET_TRIGGER_KEY]: wanted.triggerId },
    }
    const result = await this.#o.publisher.publish(event)
    if (!result.accepted)
      this.#logger(wanted.workflowId, wanted.triggerId).warn(`${event.type} event refused by the ingest`, {
        problems: result.problems,
      })
    return result
  }

  #logger(workflowId: string, triggerId: string): TriggerLogger {
    const at = (fields?: Record<string, unknown>): Record<string, unknown> => ({
      workflow: workflowId,
      trigger: triggerId,
      ...fields,
    })
    return {
      info: (message, fields) => this.#log('info', message, at(fields)),
      warn: (message, fields) => this.#log('warn', message, at(fields)),
      error: (message, fields) => this.#log('error', message, at(fields)),
    }
  }

  #log(level: string, message: string, fields?: Record<string, unknown>): void {
    this.#o.log?.(level, message, fields)
  }
}
