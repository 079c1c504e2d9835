import { makeSuspension, type ActionContext, type ActionDefinition } from '../../src/core/action.ts'

/**
 * An `ActionContext` for calling an action directly in a test, as the engine would: a live abort
 * signal, an idempotency key `run:step:iteration`, a logger whose lines are kept in `logs`.
 */
export function actionContext(
  options: {
    idempotencyKey?: string
    signal?: AbortSignal
    trigger?: unknown
    steps?: Record<string, { status: string; output?: unknown }>
  } = {},
): ActionContext & { logs: string[] } {
  const idempotencyKey = options.idempotencyKey ?? 'run-1:step:0'
  const [runId = 'run-1', stepId = 'step'] = idempotencyKey.split(':')
  const logs: string[] = []
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    logs.push(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`)
  }
  return {
    signal: options.signal ?? new AbortController().signal,
    idempotencyKey,
    logger: { info: line('info'), warn: line('warn'), error: line('error') },
    run: { id: runId, workflow: 'wf', version: 1, attempt: 1 },
    step: { id: stepId, iteration: 0, attempt: 1 },
    suspend: makeSuspension,
    context: () => ({ trigger: options.trigger ?? { type: 'manual' }, steps: options.steps ?? {} }),
    logs,
  }
}

/** Runs an action's `execute` with a test context (a resolved promise either way). */
export function runAction(
  action: ActionDefinition<never, unknown>,
  params: Record<string, unknown>,
  ctx: ActionContext = actionContext(),
): Promise<unknown> {
  return Promise.resolve((action as ActionDefinition).execute(params, ctx))
}
