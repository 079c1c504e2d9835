import type { FastifyInstance } from 'fastify'
import type { ActionCatalogue } from '../core/action-catalogue.ts'
import { scheduleForecast } from '../core/cron-schedule.ts'
import { parseDuration } from '../core/duration.ts'
import { dryRunReport } from '../core/dry-run.ts'
import { HsError } from '../core/errors.ts'
import type { MeshStore } from '../core/mesh-port.ts'
import { RUN_STATUSES, type RunStatus, type Store } from '../core/store-port.ts'
import type { RunService } from '../engine/run-service.ts'
import type { WorkflowRegistry } from '../mesh/workflow-registry.ts'

export interface WorkflowRouteDeps {
  store: Store
  mesh: MeshStore
  registry: WorkflowRegistry
  runs: RunService
  /**
   * Applied to every response body (the app's secret redaction, `app.redactor.redactText`); stored
   * records are redacted when written, this catches anything else. Absent: bodies go as they are.
   */
  redactText?: (text: string) => string
  /** Every registered action with its schemas (`GET /api/workflows/actions`, the builder's palette). */
  catalogue?: () => ActionCatalogue
  /** Time zone of schedule triggers that name none (config `timezone`; default UTC). */
  timezone?: string
  /** LLM token usage and cost of a run (`ai.*` steps), shown with the run. */
  usage?: (runId: string) => unknown
}

/** Workflows, executions and registry control, as the source document's REST API names them. */
export function registerWorkflowRoutes(app: FastifyInstance, deps: WorkflowRouteDeps): void {
  const redactText = deps.redactText
  if (redactText)
    app.addHook('onSend', async (_request, _reply, payload) =>
      typeof payload === 'string' ? redactText(payload) : payload,
    )
  const entry = (id: string) => {
    const e = deps.registry.get(id)
    if (!e) throw new HsError('HS_ERR_WORKFLOW_NOT_FOUND', `no workflow \`${id}\``)
    return e
  }

  app.get('/api/workflows', async () => {
    const stats = new Map((await deps.store.listWorkflows()).map((w) => [w.id, w]))
    return {
      workflows: deps.registry.list().map((e) => ({
        id: e.id,
        name: e.doc.name,
        description: e.doc.description,
        version: e.version,
        enabled: e.enabled,
        triggers: e.doc.triggers ?? [],
        tags: e.doc.tags ?? [],
        file: e.file,
        metadata: stats.get(e.id)?.stats,
      })),
    }
  })

  // a static path: find-my-way matches it before the parametric `/api/workflows/:id`, whatever the order
  const catalogue = deps.catalogue
  if (catalogue) app.get('/api/workflows/actions', async () => catalogue())

  app.get('/api/workflows/:id', async (request) => {
    const { id } = request.params as { id: string }
    const e = entry(id)
    const summary = (await deps.store.listWorkflows()).find((w) => w.id === id)
    return {
      ...e.doc,
      version: e.version,
      enabled: e.enabled,
      file: e.file,
      metadata: summary?.stats,
      versions: await deps.store.listWorkflowVersions(id),
      // the next fire times of each schedule trigger, in its time zone
      schedules: scheduleForecast(e.doc, deps.timezone ?? 'UTC', Date.now(), 5),
    }
  })

  app.post('/api/workflows/:id/execute', async (request, reply) => {
    const { id } = request.params as { id: string }
    const e = entry(id)
    if (!e.enabled) throw new HsError('HS_ERR_WORKFLOW_DISABLED', `workflow ${id} is disabled`)
    const body = (request.body ?? {}) as { inputs?: Record<string, unknown> }
    const record = (await deps.store.getWorkflowVersion(id, e.version))!
    const runId = await deps.runs.submit(
      record,
      body.inputs ?? {},
      { type: 'manual', source: 'api' },
      { enabledCheck: false },
    )
    return reply.code(202).send({ runId, workflowId: id, version: e.version, status: 'queued' })
  })

  // a dry run: side-effecting steps return their plan, read-only ones run; the run is a test
  app.post('/api/workflows/:id/test', async (request, reply) => {
    const { id } = request.params as { id: string }
    const e = entry(id)
    const body = (request.body ?? {}) as { inputs?: Record<string, unknown> }
    const waitParam = (request.query as { wait?: string }).wait ?? '30s'
    const waitMs = parseDuration(waitParam)
    if (waitMs === undefined || waitMs > 300_000)
      throw new HsError(
        'HS_ERR_BAD_REQUEST',
        `wait=${waitParam}: use a duration up to 5m (0 answers at once)`,
      )
    const record = (await deps.store.getWorkflowVersion(id, e.version))!
    const runId = await deps.runs.submit(
      record,
      body.inputs ?? {},
      { type: 'manual', source: 'api' },
      { isTest: true, enabledCheck: false },
    )
    const run = await deps.runs.settle(runId, waitMs)
    const head = { runId, workflowId: id, version: e.version, isTest: true, status: run.status }
    if (run.status === 'queued' || run.status === 'running') return reply.code(202).send(head)
    const actionOf = (stepId: string) => record.definition.steps.find((s) => s.id === stepId)?.uses
    const steps = dryRunReport(await deps.store.listStepAttempts(runId), actionOf)
    return { ...head, output: run.output, error: run.error, steps }
  })

  app.get('/api/workflows/:id/executions', async (request) => {
    const { id } = request.params as { id: string }
    const q = request.query as { status?: string; limit?: string; before?: string }
    const status = q.status ? q.status.split(',') : undefined
    for (const s of status ?? [])
      if (!(RUN_STATUSES as readonly string[]).includes(s))
        throw new HsError('HS_ERR_BAD_REQUEST', `status ${s}: use ${RUN_STATUSES.join(', ')}`)
    const limit = Math.min(500, Math.max(1, Number(q.limit ?? 50) || 50))
    const executions = await deps.store.listRuns({
      workflowId: id,
      status: status as RunStatus[] | undefined,
      limit,
      before: q.before,
    })
    return { executions, next: executions.length === limit ? executions.at(-1)!.id : null }
  })

  app.get('/api/executions/:id', async (request) => {
    const { id } = request.params as { id: string }
    const run = await deps.store.getRun(id)
    if (!run) throw new HsError('HS_ERR_RUN_NOT_FOUND', `no run ${id}`)
    const steps = await deps.store.listStepAttempts(id)
    const seq = (run.trigger as { eventSeq?: number }).eventSeq
    const routing = seq === undefined ? undefined : await deps.mesh.routingDecision(seq)
    return { ...run, steps, routing, ...(deps.usage ? { usage: deps.usage(id) } : {}) }
  })

  for (const action of ['cancel', 'retry', 'pause', 'resume'] as const) {
    app.post(`/api/executions/:id/${action}`, async (request, reply) => {
      const { id } = request.params as { id: string }
      await deps.runs[action](id)
      const run = await deps.store.getRun(id)
      return reply.code(202).send({ runId: id, action, status: run?.status, control: run?.control })
    })
  }

  for (const action of ['enable', 'disable'] as const) {
    app.post(`/api/workflows/:id/${action}`, async (request) => {
      const { id } = request.params as { id: string }
      const e = await deps.registry.setEnabled(id, action === 'enable', actorOf(request.headers))
      return { id, enabled: e.enabled, version: e.version }
    })
  }

  app.post('/api/workflows/:id/rollback', async (request) => {
    const { id } = request.params as { id: string }
    const { version } = (request.body ?? {}) as { version?: number }
    if (!Number.isInteger(version))
      throw new HsError('HS_ERR_BAD_REQUEST', 'body must be {"version": <integer>}')
    return {
      id,
      restored: version,
      version: await deps.registry.rollback(id, version!, actorOf(request.headers)),
    }
  })

  app.post('/api/reload', async (request) => {
    const report = await deps.registry.reload(actorOf(request.headers))
    return { ...report, workflows: deps.registry.list().length }
  })
}

function actorOf(headers: Record<string, string | string[] | undefined>): string {
  const actor = headers['x-homeostat-actor']
  return typeof actor === 'string' && actor.length > 0 && actor.length < 100 ? actor : 'api'
}
