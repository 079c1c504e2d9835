import Fastify, { type FastifyInstance } from 'fastify'
import type { EventIngest } from '../mesh/ingest.ts'
import { registerChatRoutes, type ChatRouteDeps } from './chat-routes.ts'
import { DEFAULT_EVENT_LIMITS, registerEventRoutes, type EventLimits } from './event-routes.ts'
import { registerHookRoutes, type HookHandler } from './hook-routes.ts'
import { problem, problemFromError, sendProblem } from './problem.ts'
import { registerWorkflowRoutes, type WorkflowRouteDeps } from './workflow-routes.ts'

export interface ApiDeps extends WorkflowRouteDeps {
  ingest: EventIngest
  limits?: Partial<EventLimits>
  /** The statistics block (`homeostat stats`, `GET /api/stats`). */
  stats: () => Promise<unknown>
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void
  /** Answers `POST /hooks/<path>` (the webhook trigger, passed in by the composition root); absent: no hooks. */
  hooks?: HookHandler
  /** The built-in chat channel (`/api/chat/...`); absent: no chat routes. */
  chat?: ChatRouteDeps
}

/** Builds the HTTP app without listening (tests inject requests; `serve` listens). */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const limits: EventLimits = { ...DEFAULT_EVENT_LIMITS, ...deps.limits }
  const app = Fastify({ bodyLimit: limits.bodyBytes, logger: false, return503OnClosing: true })
  app.setErrorHandler((err, _request, reply) => {
    const p = problemFromError(err)
    if (p.status >= 500) deps.log?.('error', 'request failed', { error: (err as Error).stack ?? String(err) })
    return sendProblem(reply, p)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem('HS_ERR_BAD_REQUEST', 404, `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  )
  registerEventRoutes(app, { ingest: deps.ingest, mesh: deps.mesh, limits })
  registerWorkflowRoutes(app, deps)
  if (deps.hooks) registerHookRoutes(app, { handle: deps.hooks, bodyBytes: limits.bodyBytes })
  if (deps.chat) registerChatRoutes(app, deps.chat)
  app.get('/healthz', async () => ({
    status: 'ok',
    workflows: deps.registry.list().length,
    uptimeSeconds: Math.round(process.uptime()),
  }))
  app.get('/api/stats', async () => deps.stats())
  app.post('/api/explain', async (request) => {
    const result = deps.ingest.explain(request.body)
    return { event: result.event, problems: result.problems, decision: result.decision }
  })
  await app.ready()
  return app
}
