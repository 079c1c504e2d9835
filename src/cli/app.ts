import { mkdirSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { existsSync } from 'node:fs'
import { userInfo } from 'node:os'
import { builtinActions } from '../actions/builtin-actions.ts'
import type { ActionServices } from '../actions/action-services.ts'
import type { ActionRegistry } from '../core/action.ts'
import type { HandlerInvoker } from '../core/handler-port.ts'
import type { EventPublisher } from '../core/publisher-port.ts'
import { HandlerRegistry } from '../mesh/handler-registry.ts'
import { EventWaits } from '../mesh/event-waits.ts'
import { EventIngest, type IngestAuditRecord } from '../mesh/ingest.ts'
import { SchemaRegistry } from '../mesh/schema-registry.ts'
import { WorkflowRegistry, type RegistryAuditRecord } from '../mesh/workflow-registry.ts'
import { SqliteMeshStore } from '../store/sqlite/sqlite-mesh-store.ts'
import { moveLegacyAudit } from '../store/sqlite/sqlite-audit-db.ts'
import { attachAuditLog, AUDIT_DB_FILE } from './audit-commands.ts'
import { HsError } from '../core/errors.ts'
import type { WorkflowVersionRecord } from '../core/store-port.ts'
import { formatDiagnostic, type Diagnostic } from '../core/workflow-source.ts'
import { Engine } from '../engine/engine.ts'
import { RunService } from '../engine/run-service.ts'
import { loadWorkflows, WORKFLOW_EXTENSIONS, type LoadResult } from '../mesh/workflow-files.ts'
import { loadPlugins } from '../plugins/plugin-loader.ts'
import { SqliteStore } from '../store/sqlite/sqlite-store.ts'
import { SqliteUsageStore } from '../store/sqlite/sqlite-usage-store.ts'
import { SqliteChatStore } from '../store/sqlite/sqlite-chat-store.ts'
import { PluginCommands } from '../actions/plugin-actions.ts'
import { describeActions, type ActionCatalogue } from '../core/action-catalogue.ts'
import type { PluginDefinition } from '../plugins/define-plugin.ts'
import type { Config } from './config.ts'
import type { Redactor } from '../core/redact.ts'
import type { SqliteSecretStore } from '../store/sqlite/sqlite-secret-store.ts'
import { redactProcessOutput } from './redact-output.ts'
import { openSecrets } from './secret-key.ts'

/** Everything a command needs, wired once: the composition root of the CLI. */
export interface App {
  readonly config: Config
  readonly store: SqliteStore
  readonly mesh: SqliteMeshStore
  readonly actions: ActionRegistry
  /** The encrypted secret store (`homeostat secrets`); actions read it through `services.secrets`. */
  readonly secrets: SqliteSecretStore
  /** Redacts secret values from what the process stores, logs, prints, audits and answers. */
  readonly redactor: Redactor
  readonly runs: RunService
  /** Token usage and cost of `ai.*` calls, per run and step. */
  readonly usage: SqliteUsageStore
  /** The built-in chat channel's messages (`chat.send`, `homeostat chat`, `/api/chat`). */
  readonly chat: SqliteChatStore
  /** The loaded plugins, in `plugins:` order. */
  readonly plugins: readonly PluginDefinition[]
  /** Every registered action with its schemas, by family (`homeostat actions`, `GET /api/workflows/actions`). */
  catalogue(): ActionCatalogue
  /** Handlers of `handler.call`, loaded on first use. */
  handlers(): Promise<HandlerRegistry>
  /** Event schemas of the configured directories, loaded on first use (problems are logged). */
  schemas(): Promise<SchemaRegistry>
  /** The workflows in force (directories + store), loaded on first use. */
  registry(): Promise<WorkflowRegistry>
  /** The event ingest, wired to the registry and schemas. */
  ingest(): Promise<EventIngest>
  /** Where audit records go; the audit log attaches itself here. */
  auditSink: {
    write: (
      record: IngestAuditRecord | RegistryAuditRecord | { type: string; at: number; [k: string]: unknown },
    ) => void
  }
  log: (level: string, message: string, fields?: Record<string, unknown>) => void
  /** Loads and validates the configured workflow directories (or the given paths). */
  load(paths?: readonly string[]): Promise<LoadResult>
  /** Finds a workflow by id (the version in force in the registry, else the store) or by file path. */
  resolveWorkflow(ref: string): Promise<WorkflowVersionRecord>
  newEngine(options?: { onlyRunIds?: string[] }): Engine
  close(): Promise<void>
}

const LEVELS = ['debug', 'info', 'warn', 'error']

/** How a command opens the app: long-running ones (`serve`, `worker`) write the audit log from a worker thread. */
export interface OpenAppOptions {
  auditThread?: boolean
}

export async function openApp(config: Config, options: OpenAppOptions = {}): Promise<App> {
  mkdirSync(dirname(config.store), { recursive: true })
  const store = new SqliteStore({ path: config.store, durability: config.durability })
  await store.migrate()
  moveLegacyAudit(store.handle, join(config.dataDir, AUDIT_DB_FILE))
  const mesh = new SqliteMeshStore(store.handle)
  const usage = new SqliteUsageStore(store.handle)
  // chat messages are stored redacted: a secret a chat.send step renders never reaches a reader
  const chat = new SqliteChatStore(store.handle, { redact: (m) => secrets.redactor.redact(m) })
  const secrets = openSecrets(config, store.handle, process.env, (level, message) => log(level, message))
  redactProcessOutput(secrets.redactor)
  let handlerRegistry: Promise<HandlerRegistry> | undefined
  let schemaRegistry: Promise<SchemaRegistry> | undefined
  let workflowRegistry: Promise<WorkflowRegistry> | undefined
  let eventIngest: Promise<EventIngest> | undefined
  const handlers = (): Promise<HandlerRegistry> =>
    (handlerRegistry ??= HandlerRegistry.load(config.handlers, config.baseDir, {
      plugins: pluginHandlers(pluginsOf(actions)),
    }))
  const ingest = (): Promise<EventIngest> => (eventIngest ??= buildIngest())
  const actions = await actionCatalogue(
    config,
    {
      call: async (target, args, options) => (await handlers()).call(target, args, options),
      describe: () => [],
    },
    {
      // an emitted event is stored and routed: secrets' values never travel in one
      publish: async (event, options) =>
        (await ingest()).publish(secrets.redactor.redact({ source: 'homeostat://engine', ...event }), {
          ...options,
          via: 'engine',
        }),
    },
    {
      secrets: secrets.store,
      chat,
      usage,
      waits: { register: async (wait) => (await eventWaits()).register(wait) },
    },
  )
  // what runs see of the secret store: `{{ secrets.NAME }}` in `with`, and redaction of their records
  const runSecrets = {
    get: (name: string) => secrets.store.get(name),
    redact: <T>(value: T): T => secrets.redactor.redact(value),
  }
  const runs = new RunService(store)
  const author = `cli:${userInfo().username}`
  const minLevel = LEVELS.indexOf(config.logLevel)
  const log = (level: string, message: string, fields?: Record<string, unknown>): void => {
    if (LEVELS.indexOf(level) < minLevel) return
    const line = `${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`
    process.stderr.write(`${secrets.redactor.redactText(line)}\n`)
  }

  const auditSink: App['auditSink'] = { write: () => {} }

  const schemas = (): Promise<SchemaRegistry> =>
    (schemaRegistry ??= SchemaRegistry.load(config.schemas.filter((p) => existsSync(p))).then(
      ({ registry, problems }) => {
        for (const p of problems) log('warn', `${p.file}:${p.line}:${p.column}: ${p.message}`)
        return registry
      },
    ))

  const registry = (): Promise<WorkflowRegistry> =>
    (workflowRegistry ??= (async () => {
      const r = new WorkflowRegistry({
        store,
        mesh,
        actions,
        dirs: config.workflows.filter((p) => existsSync(p)),
        audit: (record) => auditSink.write(record),
        log,
      })
      const report = await r.reload(author)
      for (const d of report.errors) log('warn', formatDiagnostic(d))
      for (const p of report.routerProblems)
        log('warn', `workflow ${p.workflowId} trigger ${p.triggerIndex}: ${p.message}`)
      return r
    })())

  async function buildIngest(): Promise<EventIngest> {
    const [r, s] = await Promise.all([registry(), schemas()])
    return new EventIngest({
      store: mesh,
      routing: () => r,
      schemas: () => s,
      unknownTypes: config.ingest.unknownTypes,
      defaultSource: 'homeostat://ingest',
      onRunsQueued: () => engines.forEach((e) => e.wake()),
      // new runs go straight to this process's engine (no claim round trip) while it has room
      handoff: () => engines.values().next().value,
      waits: await eventWaits(),
      onSignals: (signals) => engines.forEach((e) => e.delivered(signals)),
      audit: (record) => auditSink.write(record),
      // each batch joins the store's write turn: one transaction with the engine's group commit
      ...(store.schedule ? { schedule: (flush: () => void) => store.schedule!(flush) } : {}),
    })
  }
  let waitIndex: Promise<EventWaits> | undefined
  let seenToken = -1
  /** Runs suspended by `wait.event`, indexed for the ingest; reloaded when another process committed. */
  const eventWaits = (): Promise<EventWaits> =>
    (waitIndex ??= (async () => {
      const w = new EventWaits({
        store: mesh,
        changed: async () => {
          const token = await store.changeToken()
          const changed = token !== seenToken
          seenToken = token
          return changed
        },
      })
      seenToken = await store.changeToken()
      await w.load()
      return w
    })())
  const engines = new Set<Engine>()

  const load = (paths?: readonly string[]): Promise<LoadResult> =>
    loadWorkflows(
      (paths ?? config.workflows).filter((p) => existsSync(p) || paths !== undefined),
      actions,
    )

  /** A workflow file outside the configured directories: stored as given (no registry knows it). */
  async function storeFileVersion(result: LoadResult, id: string): Promise<WorkflowVersionRecord> {
    const loaded = result.workflows.get(id)!
    const { version } = await store.putWorkflowVersion(loaded.doc, {
      hash: loaded.hash,
      author,
      sourcePath: loaded.file,
      now: Date.now(),
    })
    return (await store.getWorkflowVersion(id, version))!
  }

  function invalid(diagnostics: readonly Diagnostic[]): HsError {
    return new HsError(
      'HS_ERR_WORKFLOW_INVALID',
      `invalid workflow:\n${diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`,
      { details: diagnostics },
    )
  }

  const app: App = {
    config,
    store,
    mesh,
    chat,
    get plugins() {
      return pluginsOf(actions)
    },
    catalogue: () => describeActions(actions, pluginProviders(pluginsOf(actions))),
    actions,
    secrets: secrets.store,
    redactor: secrets.redactor,
    runs,
    usage,
    handlers,
    schemas,
    registry,
    ingest,
    auditSink,
    log,
    load,
    // Workflows of the configured directories resolve through the registry (the version in force,
    // rollbacks included); only a file outside them is stored as given.
    async resolveWorkflow(ref) {
      if (WORKFLOW_EXTENSIONS.has(extname(ref)) || existsSync(ref)) {
        const result = await load([ref])
        if (result.diagnostics.length > 0) throw invalid(result.diagnostics)
        const ids = [...result.workflows.keys()]
        if (ids.length !== 1)
          throw new HsError(
            'HS_ERR_USAGE',
            `${ref} holds ${ids.length} workflows (${ids.join(', ')}); run one by id`,
          )
        const entry = (await registry()).get(ids[0]!)
        if (entry?.file !== result.workflows.get(ids[0]!)!.file) return storeFileVersion(result, ids[0]!)
        ref = entry.id
      }
      const r = await registry()
      const broken = (r.lastReport?.errors ?? []).filter((d) => d.file.includes(ref))
      if (broken.length > 0) throw invalid(broken)
      const entry = r.get(ref)
      const stored = entry
        ? await store.getWorkflowVersion(ref, entry.version)
        : await store.getWorkflowVersion(ref)
      if (stored) return stored
      const known =
        r
          .list()
          .map((e) => e.id)
          .join(', ') || 'none'
      throw new HsError(
        'HS_ERR_WORKFLOW_NOT_FOUND',
        `no workflow \`${ref}\` in ${config.workflows.join(', ')} or the store (known: ${known})`,
      )
    },
    newEngine(options = {}) {
      const engine = new Engine({
        store,
        actions,
        maxActiveRuns: config.worker.maxRuns,
        leaseMs: config.worker.leaseMs,
        pollMs: config.worker.pollMs,
        onlyRunIds: options.onlyRunIds,
        secrets: runSecrets,
        log,
      })
      runs.attach(engine)
      engines.add(engine)
      return engine
    },
    close: async () => {
      // a process that wrote audit entries signs them; read-only commands sign nothing
      if (audit.entriesWritten > 0) await audit.checkpoint()
      await audit.close()
      secrets.store.close()
      chat.close()
      await store.close()
    },
  }
  const audit = await attachAuditLog(app, { checkpointOnClose: false }, options.auditThread === true)
  // every audit entry (ingest, registry, engine, commands) passes here, in this thread
  const appendAudit = auditSink.write
  auditSink.write = (record) => appendAudit(secrets.redactor.redact(record))
  return app
}

/**
 * Every action a workflow can use: the built-ins, plugin actions, `handler.call` and `event.emit`.
 * The last two reach handlers and the ingest through ports that load them on first call, so a
 * workflow can be validated without loading any handler.
 */
export async function actionCatalogue(
  config: Config,
  invoker: HandlerInvoker,
  publisher: EventPublisher,
  extra: Partial<ActionServices> = {},
): Promise<ActionRegistry> {
  const pluginCommands = extra.pluginCommands ?? new PluginCommands()
  const actions = builtinActions({ ...actionServices(config), invoker, publisher, pluginCommands, ...extra })
  const plugins = await loadPlugins(config.plugins, config.baseDir, actions)
  for (const plugin of plugins) {
    try {
      if (plugin.commands) pluginCommands.add(plugin.name, plugin.commands)
    } catch (err) {
      throw new HsError('HS_ERR_PLUGIN_INVALID', `plugin ${plugin.name}, ${(err as Error).message}`)
    }
  }
  loadedPlugins.set(actions, plugins)
  return actions
}

const loadedPlugins = new WeakMap<ActionRegistry, readonly PluginDefinition[]>()

/** The plugins whose actions `actionCatalogue` registered in `actions` (none for another registry). */
export function pluginsOf(actions: ActionRegistry): readonly PluginDefinition[] {
  return loadedPlugins.get(actions) ?? []
}

/** Which plugin registered each plugin action type (the catalogue's `provider`). */
export function pluginProviders(plugins: readonly PluginDefinition[]): Map<string, string> {
  return new Map(plugins.flatMap((p) => (p.actions ?? []).map((a) => [a.type, p.name] as [string, string])))
}

/** The plugins' handlers, for `HandlerRegistry.load`: `handler.call` reaches them as `<handler>.<method>`. */
function pluginHandlers(
  plugins: readonly PluginDefinition[],
): Record<string, { plugin: string; methods: object }> {
  return Object.fromEntries(
    plugins.flatMap((p) =>
      Object.entries(p.handlers ?? {}).map(([name, methods]) => [name, { plugin: p.name, methods }]),
    ),
  )
}

/** The part of the configuration the action families see (docs: README "Actions"). */
export function actionServices(config: Config): Omit<ActionServices, 'secrets'> {
  return {
    files: config.files,
    shell: config.shell,
    http: config.http,
    ai: config.ai,
    notify: config.notify,
    env: process.env,
  }
}
