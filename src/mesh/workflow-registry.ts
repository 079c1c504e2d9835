import { watch, type FSWatcher } from 'chokidar'
import type { ActionRegistry } from '../core/action.ts'
import { HsError } from '../core/errors.ts'
import type { CloudEvent } from '../core/event.ts'
import type { MeshStore } from '../core/mesh-port.ts'
import type { Store, WorkflowVersionRecord } from '../core/store-port.ts'
import type { WorkflowDoc } from '../core/workflow.ts'
import type { Diagnostic } from '../core/workflow-source.ts'
import type { RoutingView } from './ingest.ts'
import { Router, type RouteEntry, type RoutingDecision } from './router.ts'
import { loadWorkflows } from './workflow-files.ts'

export interface RegistryEntry {
  id: string
  version: number
  enabled: boolean
  doc: WorkflowDoc
  /** File the workflow was loaded from (absent for a workflow known only to the store). */
  file?: string
}

export interface ReloadReport {
  added: string[]
  changed: Array<{ id: string; from: number; to: number }>
  removed: string[]
  unchanged: number
  /** Workflows whose file is invalid now: their last good version keeps running. */
  kept: string[]
  errors: Diagnostic[]
  /** Triggers whose filter does not compile (the trigger never matches). */
  routerProblems: Array<{ workflowId: string; triggerIndex: number; message: string }>
}

/** A configuration change, for the audit log. */
export interface RegistryAuditRecord {
  type:
    | 'workflow.version_stored'
    | 'workflow.enabled'
    | 'workflow.disabled'
    | 'workflow.rolled_back'
    | 'workflow.removed'
    | 'workflows.reloaded'
  at: number
  actor: string
  workflowId?: string
  data: unknown
}

export interface WorkflowRegistryOptions {
  store: Store
  mesh: MeshStore
  actions: ActionRegistry
  dirs: readonly string[]
  now?: () => number
  audit?: (record: RegistryAuditRecord) => void
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void
}

/**
 * The workflows in force: read from the YAML directories, versioned in the store, indexed by the
 * router. An invalid edit is refused with its errors while the last good version keeps routing;
 * enable/disable and rollbacks live in the store (docs/mesh.md).
 */
export class WorkflowRegistry implements RoutingView {
  readonly #o: WorkflowRegistryOptions
  readonly #router = new Router()
  #entries = new Map<string, RegistryEntry>()
  readonly #defaults = new Map<string, Record<string, unknown>>()
  readonly #subscribed = new Map<string, boolean>()
  #lastReport: ReloadReport | undefined
  #watcher: FSWatcher | undefined
  #reloading: Promise<ReloadReport> | undefined
  #again = false
  readonly #listeners = new Set<() => void>()

  constructor(options: WorkflowRegistryOptions) {
    this.#o = options
  }

  /**
   * Calls `listener` after every change of the workflows in force (reload, enable, disable,
   * rollback), once the router has the new table; read them with `inLoadOrder()`. Returns the
   * unsubscribe function. A listener that throws is logged, not propagated.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** What the last reload found (errors of invalid files included). */
  get lastReport(): ReloadReport | undefined {
    return this.#lastReport
  }

  get router(): Router {
    return this.#router
  }

  /** Whether any workflow's trigger pattern covers `type` (memoised until the table changes). */
  subscribes(type: string): boolean {
    let yes = this.#subscribed.get(type)
    if (yes === undefined) {
      const { exact, wildcard } = this.#router.subscriptions()
      yes =
        exact.includes(type) ||
        wildcard.some((w) => w === '*' || (w.endsWith('.*') && type.startsWith(w.slice(0, -1))))
      this.#subscribed.set(type, yes)
    }
    return yes
  }

  /** In the order the files define them (the source document's tables follow it). */
  inLoadOrder(): RegistryEntry[] {
    return [...this.#entries.values()]
  }

  list(): RegistryEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.id.localeCompare(b.id))
  }

  get(id: string): RegistryEntry | undefined {
    return this.#entries.get(id)
  }

  route(event: CloudEvent): RoutingDecision {
    return this.#router.route(event)
  }

  explain(event: CloudEvent): RoutingDecision {
    return this.#router.explain(event)
  }

  inputDefaults(workflowId: string, version: number): Record<string, unknown> {
    const key = `${workflowId}@${version}`
    let defaults = this.#defaults.get(key)
    if (!defaults) {
      const doc = this.#entries.get(workflowId)?.doc
      defaults = {}
      for (const [name, schema] of Object.entries(doc?.inputs ?? {}))
        if ('default' in schema) defaults[name] = schema.default
      this.#defaults.set(key, defaults)
    }
    return { ...defaults }
  }

  /** Re-reads the directories (serialised: a reload asked for during one runs right after it). */
  reload(actor = 'system'): Promise<ReloadReport> {
    if (this.#reloading) {
      this.#again = true
      return this.#reloading
    }
    this.#reloading = this.#load(actor).finally(() => {
      this.#reloading = undefined
      if (this.#again) {
        this.#again = false
        void this.reload(actor)
      }
    })
    return this.#reloading
  }

  async #load(actor: string): Promise<ReloadReport> {
    const now = (this.#o.now ?? Date.now)()
    const result = await loadWorkflows(this.#o.dirs, this.#o.actions)
    const badFiles = new Set(result.diagnostics.map((d) => d.file))
    const report: ReloadReport = {
      added: [],
      changed: [],
      removed: [],
      unchanged: 0,
      kept: [],
      errors: result.diagnostics,
      routerProblems: [],
    }
    const next = new Map<string, RegistryEntry>()
    const enabled = new Map((await this.#o.store.listWorkflows()).map((w) => [w.id, w.enabled]))

    for (const loaded of result.workflows.values()) {
      const id = loaded.doc.id
      const applied = await this.#o.mesh.sourceHash(id)
      let record: WorkflowVersionRecord | undefined
      let created = false
      if (applied !== loaded.hash) {
        const stored = await this.#o.store.putWorkflowVersion(loaded.doc, {
          hash: loaded.hash,
          author: actor,
          sourcePath: loaded.file,
          now,
        })
        await this.#o.mesh.setSourceHash(id, loaded.hash)
        created = stored.created
        if (stored.created)
          this.#o.audit?.({
            type: 'workflow.version_stored',
            at: now,
            actor,
            workflowId: id,
            data: { version: stored.version, hash: loaded.hash, file: loaded.file },
          })
        record = await this.#o.store.getWorkflowVersion(id, stored.version)
      } else {
        record = await this.#o.store.getWorkflowVersion(id)
      }
      const entry: RegistryEntry = {
        id,
        version: record!.version,
        enabled: enabled.get(id) ?? loaded.doc.enabled !== false,
        doc: record!.definition,
        file: loaded.file,
      }
      next.set(id, entry)
      // relative to the store, so a fresh process reports only what this load stored
      const before = this.#entries.get(id)
      if (created && entry.version === 1) report.added.push(id)
      else if (created)
        report.changed.push({ id, from: before?.version ?? entry.version - 1, to: entry.version })
      else if (before && before.version !== entry.version)
        report.changed.push({ id, from: before.version, to: entry.version })
      else report.unchanged++
    }
    for (const [id, before] of this.#entries) {
      if (next.has(id)) continue
      if (before.file && badFiles.has(before.file)) {
        next.set(id, before)
        report.kept.push(id)
      } else {
        report.removed.push(id)
        this.#o.audit?.({
          type: 'workflow.removed',
          at: now,
          actor,
          workflowId: id,
          data: { version: before.version, file: before.file },
        })
      }
    }
    this.#entries = next
    report.routerProblems = this.#loadRouter()
    this.#lastReport = report
    if (report.errors.length > 0) {
      this.#o.log?.(
        'warn',
        `workflow reload refused ${badFiles.size} invalid file(s); their last good versions keep running`,
        { kept: report.kept },
      )
    }
    // a reload that changed nothing is not a configuration change: nothing to audit
    const changed =
      report.added.length + report.changed.length + report.removed.length + report.kept.length > 0
    if (changed || report.errors.length > 0)
      this.#o.audit?.({
        type: 'workflows.reloaded',
        at: now,
        actor,
        data: {
          added: report.added,
          changed: report.changed,
          removed: report.removed,
          kept: report.kept,
          errors: report.errors.length,
        },
      })
    return report
  }

  #loadRouter(): Array<{ workflowId: string; triggerIndex: number; message: string }> {
    this.#subscribed.clear()
    const problems = this.#router.load(this.#routeEntries())
    for (const listener of this.#listeners) {
      try {
        listener()
      } catch (err) {
        this.#o.log?.('error', 'a workflow change listener failed', { error: (err as Error).message })
      }
    }
    return problems
  }

  #routeEntries(): RouteEntry[] {
    return [...this.#entries.values()].map((e) => ({
      workflowId: e.id,
      version: e.version,
      enabled: e.enabled,
      doc: e.doc,
    }))
  }

  async setEnabled(id: string, enabled: boolean, actor: string): Promise<RegistryEntry> {
    const entry = this.#entries.get(id)
    if (!entry && !(await this.#o.store.getWorkflowVersion(id)))
      throw new HsError('HS_ERR_WORKFLOW_NOT_FOUND', `no workflow \`${id}\``)
    const now = (this.#o.now ?? Date.now)()
    await this.#o.store.setWorkflowEnabled(id, enabled, now)
    this.#o.audit?.({
      type: enabled ? 'workflow.enabled' : 'workflow.disabled',
      at: now,
      actor,
      workflowId: id,
      data: { version: entry?.version },
    })
    if (entry) {
      entry.enabled = enabled
      this.#loadRouter()
    }
    return entry ?? { id, version: 0, enabled, doc: { id, steps: [] } }
  }

  /** Stores the content of `version` as the newest version; in force until the file is edited again. */
  async rollback(id: string, version: number, actor: string): Promise<number> {
    const old = await this.#o.store.getWorkflowVersion(id, version)
    if (!old) {
      const versions = (await this.#o.store.listWorkflowVersions(id)).map((v) => v.version)
      throw new HsError(
        'HS_ERR_WORKFLOW_NOT_FOUND',
        versions.length
          ? `workflow ${id} has no version ${version} (versions: ${versions.join(', ')})`
          : `no workflow \`${id}\``,
      )
    }
    const now = (this.#o.now ?? Date.now)()
    const { version: _v, ...doc } = old.definition
    // the old content keeps its hash: when it is already the latest version, nothing new is stored
    const restored = await this.#o.store.putWorkflowVersion(doc as WorkflowDoc, {
      hash: old.hash,
      author: actor,
      sourcePath: old.sourcePath,
      now,
    })
    this.#o.audit?.({
      type: 'workflow.rolled_back',
      at: now,
      actor,
      workflowId: id,
      data: { restored: version, newVersion: restored.version, created: restored.created },
    })
    const entry = this.#entries.get(id)
    if (entry) {
      const record = (await this.#o.store.getWorkflowVersion(id, restored.version))!
      this.#entries.set(id, { ...entry, version: restored.version, doc: record.definition })
      this.#loadRouter()
    }
    return restored.version
  }

  /** Watches the directories and reloads on change (debounced); resolves once the watcher is ready. */
  async watch(onReload?: (report: ReloadReport) => void, debounceMs = 150): Promise<void> {
    if (this.#watcher) return
    let timer: NodeJS.Timeout | undefined
    this.#watcher = watch([...this.#o.dirs], {
      ignoreInitial: true,
      ignored: (p) => /(^|[/\\])\.[^/\\]/.test(p),
    })
    this.#watcher.on('all', () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        void this.reload('hot-reload').then(
          (report) => onReload?.(report),
          (err: unknown) => this.#o.log?.('error', 'hot reload failed', { error: (err as Error).message }),
        )
      }, debounceMs)
    })
    await new Promise<void>((resolve) => this.#watcher!.once('ready', () => resolve()))
  }

  async close(): Promise<void> {
    await this.#watcher?.close()
    this.#watcher = undefined
  }
}
