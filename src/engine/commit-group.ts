import type { ProgressOp, Store } from '../core/store-port.ts'

/**
 * Group commit: every durable change the engine makes goes through here. Changes produced during one
 * turn of the event loop, by every run in flight, are written in one transaction at the next
 * `setImmediate` (or the store's next write turn, see `Store.schedule`); each caller's promise resolves once its change is committed, so a run never acts on
 * a change that is not yet durable. A lone run pays one commit per step; many concurrent runs share one.
 */
export class CommitGroup {
  readonly #store: Store
  readonly #owner: string
  readonly #onLost: (runIds: string[]) => void
  #ops: ProgressOp[] = []
  #lazy: Array<{ op: ProgressOp; stillWanted: () => boolean }> = []
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = []
  /** Callbacks to run once the next write (which carries everything queued now) is committed. */
  #after: Array<() => void> = []
  /** The callbacks of the write in progress, while one is. */
  #afterInFlight: Array<() => void> | undefined
  #scheduled = false
  #flushing: Promise<void> | undefined
  /** Number of transactions written and changes in them, for benchmarks and metrics. */
  commits = 0
  opsWritten = 0

  constructor(store: Store, owner: string, onLost: (runIds: string[]) => void) {
    this.#store = store
    this.#owner = owner
    this.#onLost = onLost
  }

  /** Queues changes without waiting for them (they are written with the next group). */
  add(...ops: ProgressOp[]): void {
    for (const op of ops) this.#ops.push(op)
    this.#schedule()
  }

  /**
   * Queues a change that is written only if `stillWanted()` holds when the group is written: a step's
   * `running` row costs nothing when the step finishes within the same turn (its result row replaces it).
   */
  addIfStill(op: ProgressOp, stillWanted: () => boolean): void {
    this.#lazy.push({ op, stillWanted })
    this.#schedule()
  }

  /** Queues changes and resolves once they are committed. */
  commit(...ops: ProgressOp[]): Promise<void> {
    for (const op of ops) this.#ops.push(op)
    const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    this.#schedule()
    return promise
  }

  /**
   * Resolves once every change queued so far (and any write in progress) is committed: the engine
   * waits on it before starting a step, so no step ever acts on state that is not yet durable.
   */
  barrier(): Promise<void> {
    if (this.#ops.length === 0 && this.#lazy.length === 0) return this.#flushing ?? Promise.resolve()
    return this.commit()
  }

  /**
   * Calls `fn` once every change queued so far (and any write in progress) is committed: at once when
   * nothing is pending. Callbacks run in the order they were given, right after their write commits,
   * and are dropped if it fails. The engine reports step events through it: the same guarantee as
   * `barrier()`, without a promise per event.
   */
  afterCommit(fn: () => void): void {
    if (this.#ops.length > 0 || this.#lazy.length > 0 || this.#waiters.length > 0) {
      this.#after.push(fn)
      this.#schedule()
    } else if (this.#afterInFlight) this.#afterInFlight.push(fn)
    else fn()
  }

  /** Writes everything queued so far; resolves when the store has it. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
    if (this.#ops.length === 0 && this.#waiters.length === 0 && this.#lazy.length === 0) return
    await this.#write()
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // the store's write turn when it has one (shared with the ingest), else the next setImmediate
    const next = this.#store.schedule ? (fn: () => void) => this.#store.schedule!(fn) : setImmediate
    next(() => {
      this.#scheduled = false
      if (this.#flushing) {
        // a write is in progress: go again right after it
        void this.#flushing.then(() => this.#schedule())
        return
      }
      void this.#write()
    })
  }

  #write(): Promise<void> {
    let ops = this.#ops
    const waiters = this.#waiters
    if (this.#lazy.length > 0) {
      // lazy ops go first: a later result row in the same group must win the upsert
      ops = [...this.#lazy.filter((l) => l.stillWanted()).map((l) => l.op), ...ops]
      this.#lazy = []
    }
    this.#ops = []
    this.#waiters = []
    const after = this.#after
    this.#after = []
    this.#afterInFlight = after
    const run = async (): Promise<void> => {
      try {
        const result = await this.#store.commitProgress(this.#owner, ops)
        this.commits++
        this.opsWritten += ops.length
        if (result.lostRuns.length > 0) this.#onLost(result.lostRuns)
        this.#afterInFlight = undefined
        for (const w of waiters) w.resolve()
        for (const fn of after) fn()
      } catch (err) {
        this.#afterInFlight = undefined
        for (const w of waiters) w.reject(err)
      } finally {
        this.#flushing = undefined
      }
    }
    this.#flushing = run()
    return this.#flushing
  }
}
