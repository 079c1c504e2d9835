import {
  makeSuspension,
  type ActionContext,
  type ActionLogger,
  type SuspendRequest,
  type Suspension,
} from '../core/action.ts'

/** What an action's context needs of its run: one per run, shared by the contexts of its steps. */
export interface StepContextHost {
  readonly runInfo: ActionContext['run']
  /** The run's abort signal (created on first use). */
  runSignal(): AbortSignal
  redact<T>(value: T): T
  /** The engine's log, with the run and step named. */
  log(level: string, message: string, fields: Record<string, unknown>): void
  context(): ReturnType<ActionContext['context']>
}

/** Log lines kept per attempt, and the length of each. */
const MAX_LOGS = 200
const MAX_LOG_LENGTH = 2000

/**
 * The `ActionContext` of one attempt. A class, so an attempt costs one object: the signal and the
 * logger are built only when an action reads them (most trivial actions read neither), and nothing
 * else is allocated per call.
 */
export class StepContext implements ActionContext {
  readonly idempotencyKey: string
  readonly step: ActionContext['step']
  /** What the action logged, redacted and capped; recorded with the attempt. */
  readonly logs: string[] = []
  readonly #host: StepContextHost
  readonly #controller: AbortController | undefined
  #logger: ActionLogger | undefined

  constructor(
    host: StepContextHost,
    controller: AbortController | undefined,
    step: ActionContext['step'],
    idempotencyKey: string,
  ) {
    this.#host = host
    this.#controller = controller
    this.step = step
    this.idempotencyKey = idempotencyKey
  }

  get run(): ActionContext['run'] {
    return this.#host.runInfo
  }

  /** A step with a timeout has its own signal (chained to the run's); others share the run's. */
  get signal(): AbortSignal {
    return this.#controller ? this.#controller.signal : this.#host.runSignal()
  }

  get logger(): ActionLogger {
    this.#logger ??= {
      info: (message, fields) => this.#log('info', message, fields),
      warn: (message, fields) => this.#log('warn', message, fields),
      error: (message, fields) => this.#log('error', message, fields),
    }
    return this.#logger
  }

  suspend(request: SuspendRequest): Suspension {
    return makeSuspension(request)
  }

  context(): ReturnType<ActionContext['context']> {
    return this.#host.context()
  }

  #log(level: string, raw: string, rawFields?: Record<string, unknown>): void {
    // redacted before anything is kept or cut: a cut never leaves part of a value behind
    const message = this.#host.redact(String(raw))
    const fields = rawFields === undefined ? undefined : this.#host.redact(rawFields)
    if (this.logs.length < MAX_LOGS)
      this.logs.push(
        `${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`.slice(0, MAX_LOG_LENGTH),
      )
    this.#host.log(level, message, { stepId: this.step.id, ...fields })
  }
}
