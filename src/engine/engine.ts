import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { ActionRegistry } from '../core/action.ts'
import { compilePlan, type WorkflowPlan } from '../core/plan.ts'
import type { RunHandoff } from '../core/run-handoff.ts'
import type { ClaimedRun, NewRun, RunRecord, RunSignal, Store } from '../core/store-port.ts'
import { CommitGroup } from './commit-group.ts'
import { systemClock, type Clock, type EngineContext, type RunSecrets } from './engine-context.ts'
import type { EngineEvent } from './engine-events.ts'
import { ParamChecker } from './param-checker.ts'
import { RunExecution } from './run-execution.ts'

export interface EngineOptions {
  store: Store
  actions: ActionRegistry
  clock?: Clock
  /** Most runs held in memory at once (default 1000). */
  maxActiveRuns?: number
  /** Most runs claimed in one query (default 500). */
  claimBatch?: number
  /** Lease on a claimed run; renewed every third of it (default 30 s). */
  leaseMs?: number
  /** How often the queue is polled for work from other processes and for due timers (default 250 ms). */
  pollMs?: number
  /** Execute only these runs (the CLI's `run --wait`); undefined claims any run. */
  onlyRunIds?: readonly string[]
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void
  random?: () => number
  /** Tells whether a process id on this host is alive (default: `process.kill(pid, 0)`). */
  isPidAlive?: (pid: number) => boolean
  /** `{{ secrets.NAME }}` in a step's `with`, and redaction of everything runs record (cli/app.ts). */
  secrets?: RunSecrets
}

function defaultPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The run executor: claims due runs from the store with a lease, executes them concurrently, renews
 * leases, applies cancel/pause requests from other processes, and releases everything on stop.
 */
export class Engine implements RunHandoff {
  readonly id: string
  readonly #store: Store
  readonly #actions: ActionRegistry
  readonly #clock: Clock
  readonly #maxActive: number
  readonly #claimBatch: number
  readonly #leaseMs: number
  readonly #pollMs: number
  readonly #only: string[] | undefined
  readonly #log: (level: string, message: string, fields?: Record<string, unknown>) => void
  readonly #random: () => number
  readonly #isPidAlive: (pid: number) => boolean
  readonly #active = new Map<string, RunExecution>()
  readonly #plans = new Map<string, WorkflowPlan>()
  readonly #listeners = new Set<(event: EngineEvent) => void>()
  readonly #params = new ParamChecker()
  readonly commits: CommitGroup
  readonly #ctx: EngineContext
  #started = false
  #stopping = false
  #claiming = false
  #claimAgain = false
  /**
   * The last claim found fewer due runs than it asked for: it saw the queue empty, so nothing is due
   * until someone wakes us (no refill claim when a run ends), and with no run held the engine is idle.
   */
  #drained = false
  #refillScheduled = false
  #pollTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #changeToken = -1
  #idleWaiters: Array<() => void> = []
  /** Slots promised to runs being written under this engine's lease (`RunHandoff`). */
  #reserved = 0

  constructor(options: EngineOptions) {
    this.#store = options.store
    this.#actions = options.actions
    this.#clock = options.clock ?? systemClock
    this.#maxActive = options.maxActiveRuns ?? 1000
    this.#claimBatch = options.claimBatch ?? 500
    this.#leaseMs = options.leaseMs ?? 30_000
    this.#pollMs = options.pollMs ?? 250
    this.#only = options.onlyRunIds ? [...options.onlyRunIds] : undefined
    this.#log = options.log ?? (() => {})
    this.#random = options.random ?? Math.random
    this.#isPidAlive = options.isPidAlive ?? defaultPidAlive
    this.id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
    this.commits = new CommitGroup(this.#store, this.id, (lost) => {
      for (const runId of lost) {
        this.#log('warn', 'lease lost: another worker owns this run now', { runId })
        this.#active.get(runId)?.stop('lost')
      }
    })
    this.#ctx = {
      clock: this.#clock,
      commits: this.commits,
      actions: this.#actions,
      ...(options.secrets ? { secrets: options.secrets } : {}),
      emit: (event) => this.#emit(event),
      log: (level, message, fields) => this.#log(level, message, fields),
      checkParams: (action, params) => this.#params.check(action, params),
      random: this.#random,
    }
  }

  /** Subscribes to run progress; returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #emit(event: EngineEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event)
      } catch (err) {
        this.#log('error', 'event listener failed', { error: (err as Error).message })
      }
    }
  }

  get activeRuns(): number {
    return this.#active.size
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    const now = this.#clock.now()
    await this.#store.registerWorker({
      id: this.id,
      host: hostname(),
      pid: process.pid,
      startedAt: now,
      heartbeatAt: now,
    })
    await this.#releaseDeadOwners()
    this.#heartbeatTimer = setInterval(
      () => void this.#heartbeat(),
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    )
    this.#pollTimer = setInterval(() => void this.#poll(), this.#pollMs)
    this.#heartbeatTimer.unref()
    this.wake()
  }

  /**
   * A run finished: claim more once a batch worth of slots is free (or nothing is left running), in
   * one transaction per event-loop turn, rather than one claim transaction per finished run.
   */
  #refill(): void {
    // a finished run makes nothing due: after a claim that emptied the queue, new work arrives
    // through wake() (queued here, a signal, a release) or the poll
    if (this.#drained) return
    const free = this.#maxActive - this.#active.size - this.#reserved
    if (this.#active.size > 0 && free < Math.min(this.#claimBatch, Math.ceil(this.#maxActive / 4))) return
    if (this.#refillScheduled) return
    this.#refillScheduled = true
    setImmediate(() => {
      this.#refillScheduled = false
      this.wake()
    })
  }

  get owner(): string {
    return this.id
  }

  get leaseMs(): number {
    return this.#leaseMs
  }

  reserve(): boolean {
    if (!this.#started || this.#stopping || this.#only) return false
    if (this.#active.size + this.#reserved >= this.#maxActive) return false
    this.#reserved++
    return true
  }

  unreserve(count: number): void {
    this.#reserved = Math.max(0, this.#reserved - count)
  }

  /** Starts runs the ingest wrote already leased to this engine: what a claim of them would return. */
  adopt(runs: readonly NewRun[]): void {
    this.unreserve(runs.length)
    for (const r of runs) {
      const run: RunRecord = {
        id: r.id,
        workflowId: r.workflowId,
        workflowVersion: r.workflowVersion,
        status: 'running',
        trigger: r.trigger,
        inputs: r.inputs,
        attempt: 1,
        isTest: r.isTest === true,
        createdAt: r.createdAt,
        startedAt: r.createdAt,
      }
      void this.#startRun({ run, attempts: [], signals: [] })
    }
  }

  /** New work may be due (enqueued in this process, a signal, a resume): claim now. */
  wake(): void {
    if (!this.#started || this.#stopping) return
    this.#drained = false
    if (this.#claiming) {
      this.#claimAgain = true
      return
    }
    void this.#claim()
  }

  async #claim(): Promise<void> {
    this.#claiming = true
    try {
      do {
        this.#claimAgain = false
        const free = this.#maxActive - this.#active.size - this.#reserved
        if (free <= 0 || this.#stopping) break
        const want = Math.min(free, this.#claimBatch)
        const claimed = await this.#store.claimRuns(
          this.id,
          want,
          this.#clock.now(),
          this.#leaseMs,
          this.#only,
        )
        this.#drained = claimed.length < want
        for (const c of claimed) await this.#startRun(c)
        if (claimed.length === want) this.#claimAgain = true
      } while (this.#claimAgain)
    } catch (err) {
      this.#log('error', 'claiming runs failed', { error: (err as Error).message })
    } finally {
      this.#claiming = false
      this.#checkIdle()
    }
  }

  async #plan(workflowId: string, version: number): Promise<WorkflowPlan> {
    const key = `${workflowId}@${version}`
    let plan = this.#plans.get(key)
    if (!plan) {
      const record = await this.#store.getWorkflowVersion(workflowId, version)
      if (!record) throw new Error(`workflow ${workflowId} version ${version} is not in the store`)
      plan = compilePlan(record.definition, version)
      this.#plans.set(key, plan)
    }
    return plan
  }

  async #startRun(claimed: ClaimedRun): Promise<void> {
    const { run } = claimed
    let plan: WorkflowPlan
    try {
      plan = await this.#plan(run.workflowId, run.workflowVersion)
    } catch (err) {
      const now = this.#clock.now()
      const error = { name: 'Error', message: `cannot execute: ${(err as Error).message}` }
      await this.commits.commit({
        op: 'run_finished',
        runId: run.id,
        workflowId: run.workflowId,
        status: 'failed',
        error,
        endedAt: now,
        durationMs: 0,
      })
      this.#emit({
        type: 'workflow.failed',
        runId: run.id,
        workflowId: run.workflowId,
        status: 'failed',
        triggerType: run.trigger.type,
        error,
        durationMs: 0,
      })
      return
    }
    const execution = new RunExecution(claimed, plan, this.#ctx)
    this.#active.set(run.id, execution)
    void execution.done.then(() => {
      this.#active.delete(run.id)
      if (!this.#stopping) this.#refill()
      this.#checkIdle()
    })
    if (run.control) execution.stop(run.control)
    else execution.start()
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#store.renewLeases(this.id, this.#clock.now(), this.#leaseMs)
      await this.#releaseDeadOwners()
    } catch (err) {
      this.#log('error', 'lease renewal failed', { error: (err as Error).message })
    }
  }

  /** Frees runs leased by workers of this host whose process no longer exists (kill -9, OOM). */
  async #releaseDeadOwners(): Promise<void> {
    const host = hostname()
    const now = this.#clock.now()
    const dead = (await this.#store.listWorkers())
      .filter(
        (w) =>
          w.id !== this.id &&
          ((w.host === host && !this.#isPidAlive(w.pid)) || now - w.heartbeatAt > this.#leaseMs * 3),
      )
      .map((w) => w.id)
    if (dead.length > 0) {
      const freed = await this.#store.releaseLeases(dead)
      if (freed > 0) this.#log('info', 'recovered runs of a worker that died', { workers: dead, runs: freed })
      this.wake()
    }
  }

  async #poll(): Promise<void> {
    if (this.#stopping) return
    try {
      const token = await this.#store.changeToken()
      const changed = token !== this.#changeToken
      this.#changeToken = token
      if (changed && this.#active.size > 0) {
        for (const { runId, control } of await this.#store.pendingControls(this.id))
          this.#active.get(runId)?.stop(control)
        for (const execution of this.#active.values()) {
          if (execution.waitingSignals.length === 0) continue
          for (const s of await this.#store.listPendingSignals(execution.run.id)) execution.deliver(s)
        }
      }
      this.wake()
    } catch (err) {
      this.#log('error', 'polling the store failed', { error: (err as Error).message })
    }
  }

  #checkIdle(): void {
    if (this.#active.size > 0 || this.#claiming || !this.#drained) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const w of waiters) w()
  }

  /** Resolves once no run is held and the last claim found the queue empty (fewer due runs than it asked for). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve)
      this.#checkIdle()
    })
  }

  /** In-process cancel or pause of a run this engine holds; false when it holds no such run. */
  control(runId: string, control: 'cancel' | 'pause'): boolean {
    const execution = this.#active.get(runId)
    if (!execution) return false
    execution.stop(control)
    return true
  }

  /** Hands a signal to a run held here (after it was stored); otherwise wakes the claim loop. */
  async signal(runId: string, name: string, payload: unknown): Promise<void> {
    const id = await this.#store.deliverSignal(runId, name, payload, this.#clock.now())
    const execution = this.#active.get(runId)
    if (execution) execution.deliver({ id, runId, name, payload, createdAt: this.#clock.now() })
    else this.wake()
  }

  /** Hands signals already stored (by the ingest, for `wait.event`) to the runs held here; wakes the claim loop for the rest. */
  delivered(signals: readonly RunSignal[]): void {
    let wake = false
    for (const signal of signals) {
      const execution = this.#active.get(signal.runId)
      if (execution) execution.deliver(signal)
      else wake = true
    }
    if (wake) this.wake()
  }

  /**
   * Stops claiming, lets running steps finish for up to `graceMs` (no new step starts), then releases
   * every lease so the runs resume at once in the next worker.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (!this.#started || this.#stopping) return
    this.#stopping = true
    clearInterval(this.#pollTimer)
    clearInterval(this.#heartbeatTimer)
    const executions = [...this.#active.values()]
    for (const e of executions) e.release(false)
    const grace = options.graceMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(executions.map((e) => e.done)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, grace))),
    ])
    clearTimeout(timer)
    for (const e of executions) e.release(true)
    await this.commits.flush()
    await this.#store.releaseOwner(this.id)
    this.#active.clear()
  }
}
