import type { CloudEvent } from '../core/event.ts'
import { compileEventFilter, FilterInput, type EventFilter } from '../core/event-filter.ts'
import type { EventWait, MeshStore, WaitWake } from '../core/mesh-port.ts'
import { parseEventPattern, patternMatches, type EventPattern } from './router-patterns.ts'

interface CompiledWait {
  wait: EventWait
  pattern: EventPattern
  filters: EventFilter[]
}

/**
 * The runs waiting for an event (`wait.event`), indexed in memory for the ingest: checking an event
 * costs nothing while nobody waits. A wait is registered durably before its step suspends; an event
 * that satisfies it is written as the run's signal in the event's own transaction, so the wake-up is
 * exactly as durable as the event. Waits registered by another process are picked up when the store
 * says another connection committed (`changed()`), before the next batch is routed.
 */
export class EventWaits {
  readonly #store: MeshStore
  readonly #now: () => number
  readonly #changed: () => Promise<boolean>
  #waits: CompiledWait[] = []
  readonly #input = new FilterInput()

  constructor(options: { store: MeshStore; now?: () => number; changed?: () => Promise<boolean> }) {
    this.#store = options.store
    this.#now = options.now ?? Date.now
    this.#changed = options.changed ?? (async () => false)
  }

  /** Loads the stored waits (at start, and when another process may have added some). */
  async load(): Promise<void> {
    this.#waits = (await this.#store.listWaits(this.#now())).map((w) => compile(w))
  }

  /** Reloads when another connection committed since the last look; cheap otherwise. */
  async refresh(): Promise<void> {
    if (await this.#changed()) await this.load()
  }

  get size(): number {
    return this.#waits.length
  }

  /**
   * Validates, stores and indexes a wait. Throws an `Error` naming the problem for a bad pattern or
   * filter (the step fails, nothing is stored).
   */
  async register(wait: Omit<EventWait, 'id' | 'createdAt'>): Promise<void> {
    const probe = compile({ ...wait, id: 0, createdAt: 0 })
    const id = await this.#store.putWait({ ...wait, createdAt: this.#now() })
    this.#waits = this.#waits.filter((w) => !(w.wait.runId === wait.runId && w.wait.signal === wait.signal))
    this.#waits.push({ ...probe, wait: { ...wait, id, createdAt: this.#now() } })
  }

  /**
   * The waits `event` satisfies, removed from the index (each wait is woken once). A filter that fails
   * on this event counts as not satisfied.
   */
  match(event: CloudEvent): WaitWake[] {
    if (this.#waits.length === 0) return []
    const now = this.#now()
    const wakes: WaitWake[] = []
    this.#input.reset(event)
    this.#waits = this.#waits.filter((w) => {
      if (w.wait.expiresAt !== undefined && w.wait.expiresAt <= now) return false
      if (!patternMatches(w.pattern, event.type)) return true
      let ok: boolean
      try {
        ok = w.filters.every((f) => f.test(this.#input))
      } catch {
        ok = false
      }
      if (!ok) return true
      wakes.push({ waitId: w.wait.id, runId: w.wait.runId, signal: w.wait.signal, payload: event })
      return false
    })
    return wakes
  }
}

function compile(wait: EventWait): CompiledWait {
  const pattern = parseEventPattern(wait.pattern)
  if (typeof pattern === 'string') throw new Error(pattern)
  const filters = [compileEventFilter(wait.match), compileEventFilter(wait.condition)].filter(
    (f): f is EventFilter => f !== undefined,
  )
  return { wait, pattern, filters }
}
