import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { uuidv7 } from 'uuidv7'
import { HsError } from '../core/errors.ts'
import type { RunRecord, Store, TriggerInfo, WorkflowVersionRecord } from '../core/store-port.ts'
import { TERMINAL_RUN_STATUSES } from '../core/store-port.ts'
import type { Clock } from './engine-context.ts'
import { systemClock } from './engine-context.ts'
import type { Engine } from './engine.ts'
import { describeViolations } from './param-checker.ts'

/**
 * Starting and steering runs, from any process: the CLI, the API, triggers. Works on the store alone;
 * when the engine of this process holds the run it is told directly (faster than its poll).
 */
export class RunService {
  readonly #store: Store
  readonly #clock: Clock
  #engine: Engine | undefined
  readonly #ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: false,
    useDefaults: true,
    coerceTypes: true,
  })
  readonly #inputValidators = new Map<string, ValidateFunction>()

  constructor(store: Store, options: { clock?: Clock; engine?: Engine } = {}) {
    this.#store = store
    this.#clock = options.clock ?? systemClock
    this.#engine = options.engine
    addFormats.default(this.#ajv)
  }

  attach(engine: Engine): void {
    this.#engine = engine
  }

  /** Validates inputs against the workflow's `inputs` schemas (applying defaults); throws HS_ERR_INPUT_INVALID. */
  checkInputs(workflow: WorkflowVersionRecord, inputs: Record<string, unknown>): Record<string, unknown> {
    const declared = workflow.definition.inputs
    if (!declared || Object.keys(declared).length === 0) return { ...inputs }
    const key = `${workflow.workflowId}@${workflow.version}`
    let validate = this.#inputValidators.get(key)
    if (!validate) {
      // an input without a default is required unless it says `required: false`
      const required = Object.entries(declared)
        .filter(([, s]) => {
          const flag = (s as { required?: unknown }).required
          return flag === true || (flag !== false && !('default' in s))
        })
        .map(([name]) => name)
      const properties = Object.fromEntries(
        Object.entries(declared).map(([name, schema]) => {
          const { required: _r, ...rest } = schema as Record<string, unknown>
          return [name, rest]
        }),
      )
      validate = this.#ajv.compile({ type: 'object', properties, required, additionalProperties: false })
      this.#inputValidators.set(key, validate)
    }
    const copy = structuredClone(inputs)
    if (!validate(copy)) {
      const allowed = Object.keys(declared).join(', ')
      throw new HsError(
        'HS_ERR_INPUT_INVALID',
        `inputs of ${workflow.workflowId}: ${describeViolations(validate.errors, '/inputs')} (declared inputs: ${allowed})`,
      )
    }
    return copy
  }

  /** Queues a run of a stored workflow version; returns the new run's id. */
  async submit(
    workflow: WorkflowVersionRecord,
    inputs: Record<string, unknown>,
    trigger: TriggerInfo,
    options: { isTest?: boolean; enabledCheck?: boolean } = {},
  ): Promise<string> {
    if (options.enabledCheck !== false && workflow.definition.enabled === false) {
      throw new HsError('HS_ERR_WORKFLOW_DISABLED', `workflow ${workflow.workflowId} is disabled`)
    }
    const checked = this.checkInputs(workflow, inputs)
    const id = uuidv7()
    await this.#store.enqueueRuns([
      {
        id,
        workflowId: workflow.workflowId,
        workflowVersion: workflow.version,
        trigger,
        inputs: checked,
        createdAt: this.#clock.now(),
        isTest: options.isTest,
      },
    ])
    this.#engine?.wake()
    return id
  }

  /**
   * Resolves with the run once it has finished, is waiting or is paused, or with its state when
   * `timeoutMs` has passed (checks the store every `pollMs`, whichever worker executes it).
   */
  async settle(runId: string, timeoutMs: number, pollMs = 25): Promise<RunRecord> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const run = await this.#get(runId)
      const left = deadline - Date.now()
      if (TERMINAL_RUN_STATUSES.has(run.status) || run.status === 'waiting' || run.status === 'paused')
        return run
      if (left <= 0) return run
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)))
    }
  }

  async #get(runId: string): Promise<RunRecord> {
    const run = await this.#store.getRun(runId)
    if (!run) throw new HsError('HS_ERR_RUN_NOT_FOUND', `no run ${runId}`)
    return run
  }

  async cancel(runId: string): Promise<RunRecord> {
    const run = await this.#get(runId)
    if (TERMINAL_RUN_STATUSES.has(run.status))
      throw new HsError('HS_ERR_RUN_STATE', `run ${runId} already ${run.status}`)
    if (this.#engine?.control(runId, 'cancel')) return run
    if (
      await this.#store.finishUnleasedRun(runId, 'cancelled', this.#clock.now(), {
        name: 'HsError',
        message: 'run cancelled',
        code: 'HS_ERR_RUN_STATE',
      })
    )
      return run
    if (!(await this.#store.requestControl(runId, 'cancel', this.#clock.now())))
      throw new HsError('HS_ERR_RUN_STATE', `run ${runId} could not be cancelled; try again`)
    return run
  }

  async pause(runId: string): Promise<RunRecord> {
    const run = await this.#get(runId)
    if (!['queued', 'running', 'waiting'].includes(run.status))
      throw new HsError(
        'HS_ERR_RUN_STATE',
        `run ${runId} is ${run.status}; only queued, running or waiting runs can be paused`,
      )
    if (this.#engine?.control(runId, 'pause')) return run
    if (await this.#store.pauseUnleasedRun(runId, this.#clock.now())) return run
    if (!(await this.#store.requestControl(runId, 'pause', this.#clock.now())))
      throw new HsError('HS_ERR_RUN_STATE', `run ${runId} could not be paused; try again`)
    return run
  }

  async resume(runId: string): Promise<RunRecord> {
    const run = await this.#get(runId)
    if (!(await this.#store.resumeRun(runId, this.#clock.now())))
      throw new HsError('HS_ERR_RUN_STATE', `run ${runId} is ${run.status}, not paused`)
    this.#engine?.wake()
    return run
  }

  async retry(runId: string): Promise<RunRecord> {
    const run = await this.#get(runId)
    if (!(await this.#store.retryRun(runId, this.#clock.now())))
      throw new HsError(
        'HS_ERR_RUN_STATE',
        `run ${runId} is ${run.status}; only failed, cancelled or timed-out runs can be retried`,
      )
    this.#engine?.wake()
    return run
  }

  async signal(runId: string, name: string, payload: unknown): Promise<void> {
    const run = await this.#get(runId)
    if (TERMINAL_RUN_STATUSES.has(run.status))
      throw new HsError('HS_ERR_RUN_STATE', `run ${runId} already ${run.status}`)
    if (this.#engine) await this.#engine.signal(runId, name, payload)
    else await this.#store.deliverSignal(runId, name, payload, this.#clock.now())
  }
}
