import { isSuspension, suspensionOf, type SuspendRequest } from '../core/action.ts'
import {
  HsError,
  NonRetryableError,
  RetryAfterError,
  StepTimeoutError,
  toErrorRecord,
  type ErrorRecord,
} from '../core/errors.ts'
import { genericPlan, isPlannedOutput, plannedOutput } from '../core/dry-run.ts'
import type { ExprContext } from '../core/expr/index.ts'
import { backoffDelay, type StepPlan, type WorkflowPlan } from '../core/plan.ts'
import { decide, defaultOutput, runOutcome, SETTLED, type StepState } from '../core/run-state.ts'
import type { ClaimedRun, ProgressOp, RunRecord, RunSignal, StepAttemptRecord } from '../core/store-port.ts'
import type { EngineContext } from './engine-context.ts'
import { StepContext, type StepContextHost } from './step-context.ts'

/** Interruptions (process died mid-attempt) tolerated per step before it fails. */
export const MAX_INTERRUPTIONS = 5

type StepCtx = { status: string; output?: unknown; error?: ErrorRecord; attempts: number }
type Outcome = { ok: true; value: unknown; logs: string[] } | { ok: false; error: unknown; logs: string[] }

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
type Waiting = { request: SuspendRequest; attempt: StepAttemptRecord; until?: number }
type Stop = 'cancel' | 'pause' | 'timeout' | 'shutdown' | 'lost'

/** Executes one claimed run until it finishes, parks (waiting, paused) or the worker lets it go. */
export class RunExecution {
  readonly run: RunRecord
  readonly plan: WorkflowPlan
  readonly #engine: EngineContext
  readonly #states = new Map<string, StepState>()
  readonly #stepsCtx: Record<string, StepCtx> = Object.create(null) as Record<string, StepCtx>
  /** Highest attempt number per `step:iteration`, so new attempts never collide with history. */
  readonly #attemptNo = new Map<string, number>()
  readonly #interruptions = new Map<string, number>()
  /** Settled foreach iterations recovered from history: `step` → iteration → output. */
  readonly #doneIterations = new Map<string, Map<number, unknown>>()
  readonly #waiting = new Map<string, Waiting>()
  /** Attempts executing now, by `step:iteration`: written as cancelled when the run is cancelled. */
  readonly #inflight = new Map<string, StepAttemptRecord>()
  readonly #signals: RunSignal[]
  /** Created on first use: most actions never read their signal. `#abortReason` remembers an early stop. */
  #abortController: AbortController | undefined
  #abortReason: unknown
  readonly #backoffTimers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>()
  /** Dependencies of each step not settled yet: a step is decided only once this reaches 0. */
  readonly #openDeps = new Map<string, number>()
  #vars: unknown = {}
  #baseCtx: Record<string, unknown> | undefined
  #running = 0
  #unsettled: number
  #stop: Stop | undefined
  #closed = false
  #runTimer: NodeJS.Timeout | undefined
  #resolveDone!: () => void
  /** Resolves when this execution has finished, parked or been released. */
  readonly done: Promise<void>

  constructor(claimed: ClaimedRun, plan: WorkflowPlan, engine: EngineContext) {
    this.run = claimed.run
    this.plan = plan
    this.#engine = engine
    this.#signals = [...claimed.signals]
    this.#unsettled = plan.steps.length
    this.done = new Promise((resolve) => (this.#resolveDone = resolve))
    for (const step of plan.steps) {
      this.#states.set(step.id, { status: 'pending', attempts: 0 })
      this.#stepsCtx[step.id] = { status: 'pending', attempts: 0 }
      this.#openDeps.set(step.id, step.needs.length)
    }
    this.#recover(claimed.attempts)
  }

  // ------------------------------------------------------------------ lifecycle

  start(): void {
    const now = this.#engine.clock.now()
    let deadline = this.run.deadlineAt
    if (deadline === undefined && this.plan.runTimeoutMs !== undefined) {
      deadline = (this.run.startedAt ?? now) + this.plan.runTimeoutMs
      this.#engine.commits.add({
        op: 'run_started',
        runId: this.run.id,
        startedAt: this.run.startedAt ?? now,
        deadlineAt: deadline,
      })
    }
    if (deadline !== undefined) {
      this.#runTimer = setTimeout(() => this.stop('timeout'), Math.max(0, deadline - now))
    }
    this.#engine.emit({
      type: 'workflow.started',
      runId: this.run.id,
      workflowId: this.plan.id,
      resumed: this.#unsettled < this.plan.steps.length,
    })
    try {
      this.#vars = this.plan.variables.render({
        inputs: this.run.inputs,
        run: this.#runInfo(),
        trigger: this.run.trigger,
      })
    } catch (err) {
      void this.#finish('failed', new HsError('HS_ERR_EXPR_EVAL', `variables: ${(err as Error).message}`))
      return
    }
    this.#consumeSignals()
    this.#pump(this.plan.steps.filter((s) => this.#openDeps.get(s.id) === 0))
  }

  /** Asks the run to stop: cancel and timeout abort running steps; pause lets them finish. */
  stop(reason: Stop): void {
    if (this.#closed || this.#stop === 'cancel' || this.#stop === 'timeout') return
    this.#stop = reason
    if (reason === 'cancel' || reason === 'timeout' || reason === 'lost') {
      this.#abortRun(reason)
      if (reason === 'lost') return this.#close()
      const status = reason === 'cancel' ? 'cancelled' : 'timed_out'
      const error =
        reason === 'timeout'
          ? new HsError('HS_ERR_RUN_TIMEOUT', `run timed out after ${this.plan.runTimeoutMs}ms`)
          : new HsError('HS_ERR_RUN_STATE', 'run cancelled')
      void this.#finish(status, error)
      return
    }
    for (const b of [...this.#backoffTimers]) b.wake()
    this.#maybeSettle()
  }

  /** A signal delivered while this run is held in memory. */
  deliver(signal: RunSignal): void {
    if (this.#closed) return
    this.#signals.push(signal)
    this.#consumeSignals()
  }

  get waitingSignals(): string[] {
    return [...this.#waiting.values()].map((w) => w.request.signal)
  }

  // ------------------------------------------------------------------ recovery

  #recover(rows: StepAttemptRecord[]): void {
    if (rows.length === 0) return
    const byStep = new Map<string, StepAttemptRecord[]>()
    for (const row of rows) {
      const key = `${row.stepId}:${row.iteration}`
      this.#attemptNo.set(key, Math.max(this.#attemptNo.get(key) ?? 0, row.attempt))
      const list = byStep.get(row.stepId) ?? []
      list.push(row)
      byStep.set(row.stepId, list)
    }
    const now = this.#engine.clock.now()
    for (const [stepId, list] of byStep) {
      const step = this.plan.byId.get(stepId)
      if (!step) continue
      list.sort((a, b) => a.iteration - b.iteration || a.attempt - b.attempt)
      const current = list.filter((r) => r.runAttempt === this.run.attempt)
      const summary = step.foreachExpr ? list.filter((r) => r.iteration === -1).at(-1) : list.at(-1)
      if (summary?.status === 'succeeded') {
        this.#settle(step, { status: 'succeeded', output: summary.output, attempts: current.length })
        continue
      }
      if (
        summary &&
        summary.runAttempt === this.run.attempt &&
        (summary.status === 'skipped' || this.#isFinalFailure(summary))
      ) {
        this.#settle(step, {
          status: summary.status === 'skipped' ? 'skipped' : 'failed',
          error: summary.error,
          attempts: current.length,
        })
        continue
      }
      const state = this.#states.get(stepId)!
      state.attempts = current.filter((r) => r.status === 'failed').length
      for (const row of current) {
        if (row.status !== 'running' && row.status !== 'interrupted') continue
        const key = `${row.stepId}:${row.iteration}`
        this.#interruptions.set(key, (this.#interruptions.get(key) ?? 0) + 1)
        if (row.status === 'interrupted') continue
        // the process died during this attempt: record it and run the step again
        this.#engine.commits.add({
          op: 'attempt',
          row: {
            ...row,
            status: 'interrupted',
            endedAt: now,
            error: { name: 'Interrupted', message: 'the worker stopped during this attempt' },
          },
        })
      }
      if (step.foreachExpr) {
        const done = new Map<number, unknown>()
        for (const row of list)
          if (row.iteration >= 0 && row.status === 'succeeded') done.set(row.iteration, row.output)
        this.#doneIterations.set(stepId, done)
      }
      const last = current.filter((r) => r.iteration >= 0).at(-1)
      if (last?.status === 'waiting') {
        const detail = (last.detail ?? {}) as {
          signal?: string
          until?: number
          onTimeout?: 'fail' | 'succeed'
        }
        const request: SuspendRequest = { signal: detail.signal ?? '', onTimeout: detail.onTimeout ?? 'fail' }
        this.#waiting.set(stepId, { request, attempt: last, until: detail.until })
        state.status = 'waiting'
        this.#stepsCtx[stepId]!.status = 'waiting'
      }
    }
  }

  #isFinalFailure(row: StepAttemptRecord): boolean {
    return row.status === 'failed' && (row.detail as { final?: boolean } | undefined)?.final === true
  }

  // ------------------------------------------------------------------ scheduling

  #runInfo(): Record<string, unknown> {
    return { id: this.run.id, workflow: this.plan.id, version: this.plan.version, attempt: this.run.attempt }
  }

  #ctx = (): ExprContext => {
    this.#baseCtx ??= {
      inputs: this.run.inputs,
      vars: this.#vars,
      steps: this.#stepsCtx,
      run: this.#runInfo(),
      trigger: this.run.trigger,
      event: (this.run.trigger as { event?: unknown }).event ?? null,
    }
    return this.#baseCtx
  }

  /** `value` with every secret's value redacted (the identity when the catalogue has no secrets). */
  #redact<T>(value: T): T {
    const secrets = this.#engine.secrets
    return secrets ? secrets.redact(value) : value
  }

  /**
   * The context `step`'s `with` renders in: `ctx` plus `secrets`, holding the values of the secrets
   * the template names (read now, so a changed secret applies from the next attempt). Throws, naming
   * the secret, when one is not set.
   */
  #withSecrets(step: StepPlan, ctx: ExprContext): ExprContext {
    const use = step.with.uses.find((u) => u.name === 'secrets')
    if (!use) return ctx
    if (use.whole)
      throw new NonRetryableError(`step ${step.id}: reference secrets by name, as {{ secrets.NAME }}`)
    const reader = this.#engine.secrets
    const values: Record<string, string> = {}
    for (const name of use.members) {
      const value = reader?.get(name)
      if (value === undefined)
        throw new HsError(
          'HS_ERR_SECRET_NOT_FOUND',
          `step ${step.id}: no secret \`${name}\` is set (\`homeostat secrets set ${name}\`)`,
        )
      values[name] = value
    }
    return { ...ctx, secrets: values }
  }

  /** In a dry run, the steps `step`'s `with` reads whose output is only a plan. */
  #plannedInputs(step: StepPlan): string[] {
    if (!this.run.isTest) return []
    const read = step.with.uses.find((u) => u.name === 'steps')?.members ?? []
    return read.filter((id) => isPlannedOutput(this.#stepsCtx[id]?.output))
  }

  #pump(candidates: Iterable<StepPlan>): void {
    if (this.#closed) return
    if (this.#stop === undefined) {
      const d = decide(this.plan, this.#states, candidates, this.#ctx)
      const now = this.#engine.clock.now()
      for (const { step, reason } of d.skipped) {
        this.#settle(step, { status: 'skipped', attempts: 0 })
        this.#engine.commits.add({
          op: 'attempt',
          row: this.#row(step, step.foreachExpr ? -1 : 0, 0, 'skipped', now, {
            detail: { reason },
            endedAt: now,
            durationMs: 0,
          }),
        })
        this.#engine.emit({ type: 'step.skipped', runId: this.run.id, stepId: step.id, reason })
      }
      for (const { step, error } of d.failed) {
        this.#settle(step, { status: 'failed', error, attempts: 0 })
        this.#engine.commits.add({
          op: 'attempt',
          row: this.#row(step, step.foreachExpr ? -1 : 0, 0, 'failed', now, {
            error,
            detail: { final: true },
            endedAt: now,
            durationMs: 0,
          }),
        })
        this.#engine.emit({ type: 'step.failed', runId: this.run.id, stepId: step.id, error })
        this.#pump(this.#unblocked(step))
      }
      for (const step of d.ready) this.#queued.push(step)
      this.#startQueued()
    }
    this.#maybeSettle()
  }

  readonly #queued: StepPlan[] = []

  /** After each step's `#runStep`: one function for every step of the run, not a closure each. */
  readonly #stepEnded = (): void => {
    this.#running--
    this.#startQueued()
    this.#maybeSettle()
  }

  #startQueued(): void {
    while (
      this.#queued.length > 0 &&
      this.#running < this.plan.concurrency &&
      this.#stop === undefined &&
      !this.#closed
    ) {
      const step = this.#queued.shift()!
      this.#running++
      const state = this.#states.get(step.id)!
      state.status = 'running'
      this.#stepsCtx[step.id]!.status = 'running'
      void this.#runStep(step).then(this.#stepEnded, this.#stepEnded)
    }
  }

  /** Finishes or parks the run when nothing more can happen. */
  #maybeSettle(): void {
    if (this.#closed || this.#running > 0) return
    if (this.#stop === 'pause' || this.#stop === 'shutdown') {
      if (this.#stop === 'pause') void this.#park('paused')
      else this.#close()
      return
    }
    if (this.#queued.length > 0) return
    if (this.#unsettled === 0) {
      const outcome = runOutcome(this.plan, this.#states)
      if (outcome.status === 'failed') {
        const first = this.#states.get(outcome.failedSteps[0]!)!
        const err = new HsError(
          'HS_ERR_STEP_FAILED',
          `step ${outcome.failedSteps.join(', ')} failed: ${first.error?.message ?? 'error'}`,
        )
        void this.#finish('failed', err)
      } else {
        let output: unknown
        try {
          output = this.plan.output
            ? this.plan.output.render(this.#ctx())
            : defaultOutput(this.plan, this.#states)
        } catch (err) {
          void this.#finish('failed', new HsError('HS_ERR_EXPR_EVAL', `output: ${(err as Error).message}`))
          return
        }
        void this.#finish('succeeded', undefined, output)
      }
      return
    }
    if (this.#waiting.size > 0) void this.#park('waiting')
  }

  /** Dependents of `step` whose every dependency is now settled. */
  #unblocked(step: StepPlan): StepPlan[] {
    const out: StepPlan[] = []
    for (const id of step.dependents) if (this.#openDeps.get(id) === 0) out.push(this.plan.byId.get(id)!)
    return out
  }

  #settle(step: StepPlan, state: StepState): void {
    const prev = this.#states.get(step.id)!
    if (!SETTLED.has(prev.status)) {
      this.#unsettled--
      for (const id of step.dependents) this.#openDeps.set(id, this.#openDeps.get(id)! - 1)
    }
    this.#states.set(step.id, state)
    const ctx = this.#stepsCtx[step.id]!
    ctx.status = state.status
    ctx.attempts = state.attempts
    if (state.output !== undefined) ctx.output = state.output
    if (state.error !== undefined) ctx.error = state.error
  }

  // ------------------------------------------------------------------ one step

  async #runStep(step: StepPlan): Promise<void> {
    // No barrier here. A side-effecting step acts only after its `running` row is committed, and
    // that commit carries every result queued before it (its dependencies' included). A read-only
    // step may run ahead of durability: if the process dies before its row and its dependencies'
    // rows are committed, nothing outside saw any of it and the run resumes from its last durable
    // state. So a chain of read-only steps and the run's end are written in one transaction.
    if (this.#closed) return
    let result:
      | { ok: true; output: unknown }
      | { ok: false; error: ErrorRecord }
      | { waiting: true }
      | { stopped: true }
    if (step.foreachExpr) result = await this.#runForeach(step)
    else result = await this.#runAttempts(step, 0, undefined)
    if (this.#closed) return
    if ('stopped' in result) {
      this.#states.get(step.id)!.status = 'pending'
      this.#stepsCtx[step.id]!.status = 'pending'
      return
    }
    if ('waiting' in result) return
    this.#complete(step, result)
  }

  #complete(step: StepPlan, result: { ok: true; output: unknown } | { ok: false; error: ErrorRecord }): void {
    const attempts = this.#states.get(step.id)!.attempts
    if (result.ok) {
      this.#settle(step, { status: 'succeeded', output: result.output, attempts })
      const event = {
        type: 'step.completed' as const,
        runId: this.run.id,
        stepId: step.id,
        output: result.output,
        action: step.uses,
      }
      // reported once durable
      this.#engine.commits.afterCommit(() => this.#engine.emit(event))
    } else {
      this.#settle(step, { status: 'failed', error: result.error, attempts })
      this.#engine.emit({
        type: 'step.failed',
        runId: this.run.id,
        stepId: step.id,
        error: result.error,
        action: step.uses,
      })
    }
    this.#pump(this.#unblocked(step))
  }

  async #runForeach(
    step: StepPlan,
  ): Promise<{ ok: true; output: unknown } | { ok: false; error: ErrorRecord } | { stopped: true }> {
    const started = this.#engine.clock.now()
    let items: unknown
    try {
      items = step.foreachExpr!.evaluate(this.#ctx())
    } catch (err) {
      return this.#summary(step, started, { ok: false, error: this.#redact(toErrorRecord(err)) })
    }
    if (!Array.isArray(items)) {
      const error = toErrorRecord(
        new NonRetryableError(`foreach \`${step.foreachExpr!.source}\` gave ${typeof items}, not a list`),
      )
      return this.#summary(step, started, { ok: false, error })
    }
    const done = this.#doneIterations.get(step.id) ?? new Map<number, unknown>()
    const outputs: unknown[] = new Array(items.length)
    let failure: ErrorRecord | undefined
    let next = 0
    let stopped = false
    const worker = async (): Promise<void> => {
      while (next < items.length && failure === undefined && !stopped) {
        const index = next++
        if (done.has(index)) {
          outputs[index] = done.get(index)
          continue
        }
        const r = await this.#runAttempts(step, index, { item: items[index], index })
        if ('stopped' in r || 'waiting' in r) stopped = true
        else if (r.ok) outputs[index] = r.output
        else failure = r.error
      }
    }
    await Promise.all(Array.from({ length: Math.min(step.concurrency, Math.max(1, items.length)) }, worker))
    if (this.#closed) return { stopped: true }
    if (stopped) return { stopped: true }
    return this.#summary(
      step,
      started,
      failure ? { ok: false, error: failure } : { ok: true, output: outputs },
    )
  }

  async #summary<R extends { ok: true; output: unknown } | { ok: false; error: ErrorRecord }>(
    step: StepPlan,
    started: number,
    r: R,
  ): Promise<R> {
    const now = this.#engine.clock.now()
    const row = this.#row(step, -1, 0, r.ok ? 'succeeded' : 'failed', started, {
      endedAt: now,
      durationMs: now - started,
      ...(r.ok ? { output: r.output } : { error: r.error, detail: { final: true } }),
    })
    await this.#engine.commits.commit({ op: 'attempt', row })
    return r
  }

  #row(
    step: StepPlan,
    iteration: number,
    attempt: number,
    status: StepAttemptRecord['status'],
    startedAt: number,
    extra: Partial<StepAttemptRecord>,
  ): StepAttemptRecord {
    return {
      runId: this.run.id,
      stepId: step.id,
      iteration,
      attempt,
      runAttempt: this.run.attempt,
      status,
      startedAt,
      ...extra,
    }
  }

  /** Runs one (step, iteration) with its retry policy until it succeeds, fails for good, waits or is stopped. */
  async #runAttempts(
    step: StepPlan,
    iteration: number,
    loop: { item: unknown; index: number } | undefined,
  ): Promise<
    { ok: true; output: unknown } | { ok: false; error: ErrorRecord } | { waiting: true } | { stopped: true }
  > {
    const key = `${step.id}:${iteration}`
    const state = this.#states.get(step.id)!
    const action = this.#engine.actions.get(step.uses)
    const idempotencyKey = `${this.run.id}:${step.id}:${iteration}`
    if ((this.#interruptions.get(key) ?? 0) >= MAX_INTERRUPTIONS) {
      const error = toErrorRecord(
        new HsError(
          'HS_ERR_STEP_INTERRUPTED',
          `step ${step.id} was interrupted ${MAX_INTERRUPTIONS} times by a dying worker; giving up`,
        ),
      )
      return this.#failFinal(step, iteration, this.#engine.clock.now(), error, undefined)
    }
    for (;;) {
      if (this.#closed) return { stopped: true }
      if (this.#stop !== undefined) return { stopped: true }
      const attempt = (this.#attemptNo.get(key) ?? 0) + 1
      this.#attemptNo.set(key, attempt)
      const startedAt = this.#engine.clock.now()
      let params: Record<string, unknown> | undefined
      // what is recorded and reported of the parameters: secrets' values redacted
      let input: Record<string, unknown> | undefined
      try {
        if (!action) throw new NonRetryableError(`unknown action ${step.uses}`)
        const ctx = this.#withSecrets(
          step,
          loop ? { ...this.#ctx(), item: loop.item, index: loop.index } : this.#ctx(),
        )
        params = step.with.render(ctx) as Record<string, unknown>
        input = this.#redact(params)
        const invalid = this.#engine.checkParams(action, params)
        if (invalid) throw new NonRetryableError(`step ${step.id}: ${invalid}`)
      } catch (err) {
        const error = this.#redact(
          toErrorRecord(
            err instanceof NonRetryableError
              ? err
              : new NonRetryableError((err as Error).message, { cause: err }),
          ),
        )
        state.attempts++
        const unresolved = params === undefined ? this.#plannedInputs(step) : []
        if (unresolved.length > 0) {
          // a dry run: the parameters need outputs that planned steps did not produce
          const output = plannedOutput({
            summary: `run ${step.uses} (its parameters need the output of ${unresolved.join(', ')}, which this dry run only planned)`,
            details: { action: step.uses, unresolved, error: error.message },
          })
          this.#engine.commits.add({
            op: 'attempt',
            row: this.#row(step, iteration, attempt, 'succeeded', startedAt, {
              output,
              idempotencyKey,
              endedAt: startedAt,
              durationMs: 0,
            }),
          })
          return { ok: true, output }
        }
        return this.#failFinal(step, iteration, startedAt, error, input, attempt, idempotencyKey)
      }
      const dryRun = this.run.isTest && action.sideEffects
      const running = this.#row(step, iteration, attempt, 'running', startedAt, {
        input,
        idempotencyKey,
      })
      if (action.sideEffects) await this.#engine.commits.commit({ op: 'attempt', row: running })
      else
        this.#engine.commits.addIfStill(
          { op: 'attempt', row: running },
          () => this.#inflight.get(key) === running,
        )
      if (this.#closed) return { stopped: true }
      const startedEvent = {
        type: 'step.started' as const,
        runId: this.run.id,
        stepId: step.id,
        iteration,
        attempt,
        input,
        startedAt,
      }
      // a read-only step may start before what it read is durable (see #runStep): it is reported
      // once that is, so observers see every step start after the completions it depends on
      if (action.sideEffects) this.#engine.emit(startedEvent)
      else this.#engine.commits.afterCommit(() => this.#engine.emit(startedEvent))

      this.#inflight.set(key, running)
      const invoked = this.#invoke(step, action, params, input, dryRun, attempt, iteration, idempotencyKey)
      let outcome = invoked instanceof Promise ? await invoked : invoked
      this.#inflight.delete(key)
      if (this.#closed) return { stopped: true }
      const endedAt = this.#engine.clock.now()
      const timing = { endedAt, durationMs: endedAt - startedAt }
      if (outcome.ok && isSuspension(outcome.value) && this.run.isTest) {
        // a dry run does not wait: the step says what it would wait for
        const request = suspensionOf(outcome.value)
        const summary = `wait for signal \`${request.signal}\`${request.timeoutMs === undefined ? '' : ` (at most ${request.timeoutMs}ms)`}`
        outcome = { ...outcome, value: plannedOutput({ summary, details: { ...request } }) }
      }
      if (outcome.ok && isSuspension(outcome.value)) {
        const request = suspensionOf(outcome.value)
        const until = request.timeoutMs === undefined ? undefined : endedAt + request.timeoutMs
        const row = {
          ...running,
          status: 'waiting' as const,
          detail: {
            signal: request.signal,
            until,
            onTimeout: request.onTimeout ?? 'fail',
            logs: outcome.logs,
          },
        }
        await this.#engine.commits.commit({ op: 'attempt', row })
        this.#waiting.set(step.id, { request, attempt: row, until })
        state.status = 'waiting'
        this.#stepsCtx[step.id]!.status = 'waiting'
        this.#engine.emit({
          type: 'step.waiting',
          runId: this.run.id,
          stepId: step.id,
          signal: request.signal,
          until,
        })
        this.#consumeSignals()
        return { waiting: true }
      }
      if (outcome.ok) {
        state.attempts++
        const detail = outcome.logs.length > 0 ? { logs: outcome.logs } : undefined
        // what later steps see is what is recorded: a crash-recovered run sees the same
        const output = this.#redact(outcome.value)
        // queued, not awaited: a side-effecting dependent commits it with its own start, and a run
        // that ends here writes this row and its completion in the same transaction
        this.#engine.commits.add({
          op: 'attempt',
          row: { ...running, status: 'succeeded', output, detail, ...timing },
        })
        return { ok: true, output }
      }
      state.attempts++
      const err = outcome.error
      const error = this.#redact(toErrorRecord(err))
      if (this.#stop === 'cancel' || this.#stop === 'timeout') return { stopped: true }
      const retryable =
        !(err instanceof NonRetryableError) && (err as { retryable?: unknown }).retryable !== false
      const attemptsMade = state.attempts
      if (!retryable || attemptsMade >= step.retry.attempts) {
        return this.#failFinal(
          step,
          iteration,
          startedAt,
          error,
          input,
          attempt,
          idempotencyKey,
          outcome.logs,
        )
      }
      const delay =
        err instanceof RetryAfterError
          ? err.retryAfterMs
          : backoffDelay(step.retry, attemptsMade, this.#engine.random())
      await this.#engine.commits.commit({
        op: 'attempt',
        row: {
          ...running,
          status: 'failed',
          error,
          detail: { retryInMs: delay, logs: outcome.logs },
          ...timing,
        },
      })
      this.#engine.emit({
        type: 'step.retrying',
        runId: this.run.id,
        stepId: step.id,
        attempt,
        delayMs: delay,
        error,
      })
      await this.#sleep(delay)
    }
  }

  async #failFinal(
    step: StepPlan,
    iteration: number,
    startedAt: number,
    error: ErrorRecord,
    params: unknown,
    attempt = (this.#attemptNo.get(`${step.id}:${iteration}`) ?? 0) + 1,
    idempotencyKey?: string,
    logs: string[] = [],
  ): Promise<{ ok: false; error: ErrorRecord }> {
    this.#attemptNo.set(`${step.id}:${iteration}`, attempt)
    const endedAt = this.#engine.clock.now()
    const row = this.#row(step, iteration, attempt, 'failed', startedAt, {
      input: params,
      error,
      detail: { final: true, ...(logs.length > 0 ? { logs } : {}) },
      endedAt,
      durationMs: endedAt - startedAt,
      idempotencyKey,
    })
    await this.#engine.commits.commit({ op: 'attempt', row })
    return { ok: false, error }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.wake(), ms),
        wake: () => {
          clearTimeout(entry.timer)
          this.#backoffTimers.delete(entry)
          resolve()
        },
      }
      this.#backoffTimers.add(entry)
    })
  }

  /**
   * Calls the action. Synchronous when the action answers synchronously and the step has no
   * timeout (most `data.*` steps): no promise, closure or timer is made for it.
   */
  #invoke(
    step: StepPlan,
    action: NonNullable<ReturnType<EngineContext['actions']['get']>>,
    params: Record<string, unknown>,
    input: Record<string, unknown> | undefined,
    dryRun: boolean,
    attempt: number,
    iteration: number,
    idempotencyKey: string,
  ): Outcome | Promise<Outcome> {
    // a step without a timeout shares the run's signal; one with a timeout gets its own, chained to it
    const controller = step.timeoutMs === undefined ? undefined : new AbortController()
    const ctx = new StepContext(
      this.#contextHost(),
      controller,
      { id: step.id, iteration, attempt },
      idempotencyKey,
    )
    if (controller) return this.#invokeWithTimeout(step, action, params, input, dryRun, ctx, controller)
    let value: unknown
    try {
      value = dryRun ? this.#dryRun(step, action, params, input, ctx) : action.execute(params, ctx)
    } catch (error) {
      return { ok: false, error, logs: ctx.logs }
    }
    if (!isThenable(value)) return { ok: true, value, logs: ctx.logs }
    return Promise.resolve(value).then(
      (v): Outcome => ({ ok: true, value: v, logs: ctx.logs }),
      (error: unknown): Outcome => ({ ok: false, error, logs: ctx.logs }),
    )
  }

  async #dryRun(
    step: StepPlan,
    action: NonNullable<ReturnType<EngineContext['actions']['get']>>,
    params: Record<string, unknown>,
    input: Record<string, unknown> | undefined,
    ctx: StepContext,
  ): Promise<unknown> {
    return plannedOutput(action.plan ? await action.plan(params, ctx) : genericPlan(step.uses, input))
  }

  async #invokeWithTimeout(
    step: StepPlan,
    action: NonNullable<ReturnType<EngineContext['actions']['get']>>,
    params: Record<string, unknown>,
    input: Record<string, unknown> | undefined,
    dryRun: boolean,
    ctx: StepContext,
    controller: AbortController,
  ): Promise<Outcome> {
    const runSignal = this.#runSignal()
    const onRunAbort = (): void => controller.abort(runSignal.reason)
    runSignal.addEventListener('abort', onRunAbort, { once: true })
    let timer: NodeJS.Timeout | undefined
    try {
      const pending = Promise.resolve(
        dryRun ? this.#dryRun(step, action, params, input, ctx) : action.execute(params, ctx),
      )
      const value = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const e = new StepTimeoutError(step.id, step.timeoutMs!)
            reject(e) // settle the race first: the action's own rejection on abort comes later
            controller.abort(e)
          }, step.timeoutMs)
        }),
      ])
      return { ok: true, value, logs: ctx.logs }
    } catch (error) {
      return { ok: false, error, logs: ctx.logs }
    } finally {
      if (timer) clearTimeout(timer)
      runSignal.removeEventListener('abort', onRunAbort)
    }
  }

  /** What every step context of this run shares (made on the first attempt). */
  #contextHost(): StepContextHost {
    this.#host ??= {
      runInfo: {
        id: this.run.id,
        workflow: this.plan.id,
        version: this.plan.version,
        attempt: this.run.attempt,
      },
      runSignal: () => this.#runSignal(),
      redact: (value) => this.#redact(value),
      log: (level, message, fields) => this.#engine.log(level, message, { runId: this.run.id, ...fields }),
      context: () => ({ trigger: this.run.trigger, steps: this.#stepsCtx }),
    }
    return this.#host
  }

  #host: StepContextHost | undefined

  // ------------------------------------------------------------------ waiting

  /** Matches pending signals (and expired timeouts) with waiting steps. */
  #consumeSignals(): void {
    if (this.#closed || this.#waiting.size === 0) return
    const now = this.#engine.clock.now()
    for (const [stepId, w] of [...this.#waiting]) {
      const i = this.#signals.findIndex((s) => s.name === w.request.signal)
      const step = this.plan.byId.get(stepId)!
      if (i >= 0) {
        const [signal] = this.#signals.splice(i, 1)
        this.#waiting.delete(stepId)
        void this.#resume(
          step,
          w,
          { ok: true, output: this.#redact(signal!.payload) },
          [{ op: 'signal_consumed', signalId: signal!.id }],
          now,
        )
      } else if (w.until !== undefined && w.until <= now) {
        this.#waiting.delete(stepId)
        const r =
          w.request.onTimeout === 'succeed'
            ? ({ ok: true, output: { timedOut: true } } as const)
            : ({
                ok: false,
                error: toErrorRecord(
                  new NonRetryableError(`no signal ${w.request.signal} before the timeout`),
                ),
              } as const)
        void this.#resume(step, w, r, [], now)
      }
    }
  }

  async #resume(
    step: StepPlan,
    w: Waiting,
    r: { ok: true; output: unknown } | { ok: false; error: ErrorRecord },
    extra: ProgressOp[],
    now: number,
  ): Promise<void> {
    this.#running++
    const row: StepAttemptRecord = {
      ...w.attempt,
      status: r.ok ? 'succeeded' : 'failed',
      endedAt: now,
      durationMs: now - w.attempt.startedAt,
      ...(r.ok
        ? { output: r.output }
        : { error: r.error, detail: { ...(w.attempt.detail as object), final: true } }),
    }
    try {
      await this.#engine.commits.commit(...extra, { op: 'attempt', row })
      if (this.#closed) return
      const state = this.#states.get(step.id)!
      state.attempts++
      this.#complete(step, r)
    } finally {
      this.#running--
      this.#maybeSettle()
    }
  }

  #runSignal(): AbortSignal {
    if (!this.#abortController) {
      this.#abortController = new AbortController()
      if (this.#abortReason !== undefined) this.#abortController.abort(this.#abortReason)
    }
    return this.#abortController.signal
  }

  #abortRun(reason: unknown): void {
    this.#abortReason ??= reason
    this.#abortController?.abort(reason)
  }

  // ------------------------------------------------------------------ ending

  async #finish(
    status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out',
    error?: Error,
    output?: unknown,
  ): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#clearTimers()
    const now = this.#engine.clock.now()
    const ops: ProgressOp[] = []
    if (status === 'cancelled' || status === 'timed_out') {
      for (const [stepId, w] of this.#waiting) {
        ops.push({ op: 'attempt', row: { ...w.attempt, status: 'cancelled', endedAt: now } })
        this.#waiting.delete(stepId)
      }
      for (const row of this.#inflight.values()) {
        ops.push({
          op: 'attempt',
          row: { ...row, status: 'cancelled', endedAt: now, durationMs: now - row.startedAt },
        })
      }
    }
    const started = this.run.startedAt ?? now
    const errorRecord = error ? this.#redact(toErrorRecord(error)) : undefined
    output = this.#redact(output)
    ops.push({
      op: 'run_finished',
      runId: this.run.id,
      workflowId: this.plan.id,
      status,
      output,
      error: errorRecord,
      endedAt: now,
      durationMs: now - started,
    })
    try {
      await this.#engine.commits.commit(...ops)
    } finally {
      const type =
        status === 'succeeded'
          ? 'workflow.completed'
          : status === 'failed'
            ? 'workflow.failed'
            : status === 'cancelled'
              ? 'workflow.cancelled'
              : 'workflow.timed_out'
      let successfulActions = 0
      for (const state of this.#states.values()) if (state.status === 'succeeded') successfulActions++
      this.#engine.emit({
        type,
        runId: this.run.id,
        workflowId: this.plan.id,
        status,
        triggerType: this.run.trigger.type,
        output,
        error: errorRecord,
        durationMs: now - started,
        successfulActions,
        totalActions: this.plan.steps.length,
      })
      this.#resolveDone()
    }
  }

  async #park(status: 'waiting' | 'paused'): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#clearTimers()
    let wakeAt: number | undefined
    for (const w of this.#waiting.values())
      if (w.until !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, w.until)
    try {
      await this.#engine.commits.commit({ op: 'run_parked', runId: this.run.id, status, wakeAt })
    } finally {
      this.#engine.emit({
        type: status === 'paused' ? 'workflow.paused' : 'workflow.waiting',
        runId: this.run.id,
        workflowId: this.plan.id,
        wakeAt,
      })
      this.#resolveDone()
    }
  }

  /** Lets the run go without writing anything (shutdown, lost lease): another claim resumes it. */
  #close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#clearTimers()
    this.#abortRun('shutdown')
    this.#resolveDone()
  }

  #clearTimers(): void {
    if (this.#runTimer) clearTimeout(this.#runTimer)
    for (const b of [...this.#backoffTimers]) b.wake()
  }

  /** Shutdown: stop starting steps; the run is released once running steps end (or at once with `force`). */
  release(force: boolean): void {
    if (this.#closed) return
    if (force) return this.#close()
    this.#stop ??= 'shutdown'
    for (const b of [...this.#backoffTimers]) b.wake()
    this.#maybeSettle()
  }
}
