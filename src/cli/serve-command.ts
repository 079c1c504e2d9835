import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { ChatBot } from '../api/chat-bot.ts'
import { buildApp } from '../api/server.ts'
import { HsError } from '../core/errors.ts'
import type { CloudEvent } from '../core/event.ts'
import type { Engine } from '../engine/engine.ts'
import type { EngineEvent } from '../engine/engine-events.ts'
import type { TriggerManager } from '../triggers/trigger-manager.ts'
import { WebhookTrigger } from '../triggers/webhook-trigger.ts'
import type { App } from './app.ts'
import { withApp } from './common.ts'
import { meshStats } from './mesh-commands.ts'
import { paint, print } from './output.ts'
import { removeServerInfo, writeServerInfo } from './server-client.ts'
import { startTriggers } from './trigger-wiring.ts'

/** The engine's own events as CloudEvents (CONVENTIONS.md #18): `workflow.*` and `step.*`. */
export function engineCloudEvent(e: EngineEvent): CloudEvent | undefined {
  const source = 'homeostat://engine'
  switch (e.type) {
    case 'workflow.started':
      return {
        specversion: '1.0',
        type: e.type,
        source,
        id: `${e.runId}:started:${Date.now()}`,
        subject: e.runId,
        data: { run_id: e.runId, workflow_name: e.workflowId, resumed: e.resumed },
      }
    case 'workflow.completed':
    case 'workflow.failed':
    case 'workflow.cancelled':
    case 'workflow.timed_out':
      return {
        specversion: '1.0',
        type: e.type,
        source,
        id: `${e.runId}:${e.status}`,
        subject: e.runId,
        data: {
          run_id: e.runId,
          workflow_name: e.workflowId,
          status: e.status,
          successful_actions: e.successfulActions,
          total_actions: e.totalActions,
          duration_ms: e.durationMs,
          ...(e.error ? { error: e.error.message } : {}),
        },
      }
    case 'step.completed':
    case 'step.failed':
      return {
        specversion: '1.0',
        type: e.type,
        source,
        id: `${e.runId}:${e.stepId}:${e.type}`,
        subject: e.runId,
        data: {
          run_id: e.runId,
          step_id: e.stepId,
          action: e.action,
          ...(e.type === 'step.failed' ? { error: e.error?.message } : {}),
        },
      }
    default:
      return undefined
  }
}

/**
 * Connects the engine to the mesh and the audit log: every run and step outcome is audited; the
 * engine's events are published on the bus when some workflow subscribes to their type (so a
 * `workflow.failed` alert workflow works without every step of every run being stored as an event).
 */
export async function wireEngine(app: App, engine: Engine): Promise<void> {
  const registry = await app.registry()
  const ingest = await app.ingest()
  const started = new Map<string, { at: number; target?: string }>()
  const workflowOf = new Map<string, string>()
  engine.onEvent((e) => {
    const now = Date.now()
    switch (e.type) {
      case 'workflow.started':
        workflowOf.set(e.runId, e.workflowId)
        app.auditSink.write({
          type: 'run.started',
          at: now,
          runId: e.runId,
          workflowId: e.workflowId,
          data: { resumed: e.resumed },
        })
        break
      case 'step.started': {
        const target = (e.input as { target?: unknown } | undefined)?.target
        started.set(`${e.runId}:${e.stepId}`, {
          at: e.startedAt,
          ...(typeof target === 'string' ? { target } : {}),
        })
        break
      }
      case 'step.completed':
      case 'step.failed': {
        const key = `${e.runId}:${e.stepId}`
        const start = started.get(key)
        started.delete(key)
        app.auditSink.write({
          type: 'step.executed',
          at: now,
          runId: e.runId,
          workflowId: workflowOf.get(e.runId),
          // the handler a step called (`avn_core.escalate_healing` → component avn_core)
          ...(start?.target ? { component: start.target.split('.')[0] } : {}),
          data: {
            step: e.stepId,
            action: e.action,
            target: start?.target,
            result: e.type === 'step.completed' ? 'SUCCESS' : 'FAILURE',
            latency_ms: start ? now - start.at : undefined,
            ...(e.type === 'step.failed' ? { error: e.error?.message } : {}),
          },
        })
        break
      }
      case 'workflow.completed':
      case 'workflow.failed':
      case 'workflow.cancelled':
      case 'workflow.timed_out':
        workflowOf.delete(e.runId)
        app.auditSink.write({
          type: e.type,
          at: now,
          runId: e.runId,
          workflowId: e.workflowId,
          data: {
            workflow_name: e.workflowId,
            status: e.status,
            successful_actions: e.successfulActions,
            total_actions: e.totalActions,
            duration_ms: e.durationMs,
          },
        })
        break
      default:
        break
    }
    if (!registry.subscribes(e.type)) return
    const event = engineCloudEvent(e)
    if (event && registry.route(event).matched.length > 0) {
      ingest
        .publish(event, { via: 'engine' })
        .catch((err: unknown) =>
          app.log('error', 'publishing an engine event failed', { error: (err as Error).message }),
        )
    }
  })
}

export interface RunningServer {
  http: FastifyInstance
  engine: Engine
  /** Schedules, file watchers and plugin triggers of the workflows in force. */
  triggers: TriggerManager
  url: string
  stop(): Promise<void>
}

/** Why `listen` failed, for the errors a user can act on. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such local address',
}

/** Starts engine, router, hot reload and HTTP; `stop()` drains gracefully (also on SIGTERM/SIGINT in `serve`). */
export async function startServer(
  app: App,
  options: { host: string; port: number; watch?: boolean },
): Promise<RunningServer> {
  const registry = await app.registry()
  const ingest = await app.ingest()
  const routed = await ingest.routePending()
  if (routed > 0) app.log('info', `routed ${routed} event(s) stored while no server ran`)
  const engine = app.newEngine()
  await wireEngine(app, engine)
  await engine.start()
  const webhooks = new WebhookTrigger({
    workflows: () => registry.inLoadOrder(),
    ingest,
    runEvents: engine,
    getRun: (runId) => app.store.getRun(runId),
    secrets: app.secrets,
    limits: { depth: app.config.ingest.maxDepth, keys: app.config.ingest.maxKeys },
    log: app.log,
  })
  // the chat channel: `/run` from a session starts a run; its outcome is answered there when it ends
  const bot = new ChatBot({ chat: app.chat, store: app.store, workflows: registry, runs: app.runs })
  engine.onEvent((e) => {
    if (
      e.type !== 'workflow.completed' &&
      e.type !== 'workflow.failed' &&
      e.type !== 'workflow.cancelled' &&
      e.type !== 'workflow.timed_out'
    )
      return
    // only runs started from a chat session are answered there (no store read for the others)
    if (e.triggerType !== 'chat') return
    bot
      .announceOutcome(e.runId)
      .catch((err: unknown) =>
        app.log('error', 'posting a run outcome to chat failed', { error: (err as Error).message }),
      )
  })
  const http = await buildApp({
    store: app.store,
    mesh: app.mesh,
    registry,
    runs: app.runs,
    ingest,
    limits: {
      bodyBytes: app.config.ingest.maxBody,
      depth: app.config.ingest.maxDepth,
      keys: app.config.ingest.maxKeys,
    },
    stats: () => meshStats(app),
    catalogue: () => app.catalogue(),
    chat: { chat: app.chat, bot },
    log: app.log,
    timezone: app.config.timezone,
    usage: (runId) => app.usage.forRun(runId),
    hooks: (request) => webhooks.handle(request),
    // every response body passes the redactor: a secret's value never leaves in an answer
    redactText: (text) => app.redactor.redactText(text),
  })
  let address: string
  try {
    address = await http.listen({ host: options.host, port: options.port })
  } catch (err) {
    // nothing serves: release what was started, so the process ends with the reason instead of polling on
    webhooks.close()
    await http.close()
    await engine.stop({ graceMs: 0 })
    await registry.close()
    const reason = LISTEN_ERRORS[(err as NodeJS.ErrnoException).code ?? '']
    throw reason
      ? new HsError('HS_ERR_SERVER_LISTEN', `cannot listen on ${options.host}:${options.port}: ${reason}`, {
          cause: err,
        })
      : err
  }
  const port = (http.server.address() as { port: number }).port
  const triggers = await startTriggers(app, registry, ingest)
  if (options.watch !== false) {
    await registry.watch((report) => {
      const changes = report.added.length + report.changed.length + report.removed.length
      if (changes > 0)
        app.log(
          'info',
          `hot reload: ${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed`,
        )
      for (const d of report.errors)
        app.log('warn', `hot reload refused ${d.file}:${d.line}:${d.column}: ${d.message}`)
    })
  }
  writeServerInfo(app.config.dataDir, { pid: process.pid, host: options.host, port, startedAt: Date.now() })
  let stopping: Promise<void> | undefined
  return {
    http,
    engine,
    triggers,
    url: address,
    stop: () =>
      (stopping ??= (async () => {
        await triggers.stop() // no more ticks or file events: timers and watchers are gone
        webhooks.close() // hooks waiting for their run answer 202 with the run id now
        await http.close() // stop intake first: in-flight requests finish, new ones are refused
        await engine.stop({ graceMs: app.config.worker.graceMs })
        await registry.close()
        removeServerInfo(app.config.dataDir, process.pid)
      })()),
  }
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the engine, the router, hot reload and the HTTP API (default 127.0.0.1:8080)')
    .option('--host <host>', 'address to bind (env HOMEOSTAT_HOST)')
    .option('--port <port>', 'port (env HOMEOSTAT_PORT; 0 picks a free one)')
    .action((cmd: { host?: string; port?: string }) =>
      withApp(
        program,
        async (app) => {
          const host = cmd.host ?? app.config.server.host
          const port = cmd.port === undefined ? app.config.server.port : Number(cmd.port)
          const server = await startServer(app, { host, port })
          const stats = await meshStats(app)
          print(`${paint('cyan', 'homeostat')} serving on ${paint('bold', server.url)}`)
          print(`  store      ${app.config.store} (durability: ${app.config.durability})`)
          print(
            `  workflows  ${stats.totalWorkflows} (${stats.enabled} enabled) from ${app.config.workflows.join(', ')}; watching for changes`,
          )
          print(`  events     ${stats.uniqueEventTypes} subscribed type(s); POST ${server.url}/events`)
          await new Promise<void>((resolve) => {
            const onSignal = (signal: string): void => {
              print(
                `${signal}: stopping intake; running steps may finish (grace ${app.config.worker.graceMs}ms); the rest resumes at the next start`,
              )
              void server.stop().then(resolve)
            }
            process.once('SIGINT', () => onSignal('SIGINT'))
            process.once('SIGTERM', () => onSignal('SIGTERM'))
          })
          print('stopped')
        },
        { auditThread: true },
      )(),
    )
}
