import { join } from 'node:path'
import { after } from 'node:test'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import type { ActionRegistry } from '../../src/core/action.ts'
import type { RunRecord, StepAttemptRecord, TriggerInfo } from '../../src/core/store-port.ts'
import type { WorkflowDoc } from '../../src/core/workflow.ts'
import { Engine, type EngineOptions } from '../../src/engine/engine.ts'
import type { EngineEvent } from '../../src/engine/engine-events.ts'
import { RunService } from '../../src/engine/run-service.ts'
import { workflowHash } from '../../src/mesh/workflow-files.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from './tmp.ts'

/** A real SQLite store in a temp dir, the built-in actions plus the test's own, an engine and a run service. */
export interface Harness {
  store: SqliteStore
  actions: ActionRegistry
  engine: Engine
  runs: RunService
  events: EngineEvent[]
  storePath: string
  deploy(doc: WorkflowDoc): Promise<number>
  start(workflowId: string, inputs?: Record<string, unknown>, trigger?: TriggerInfo): Promise<string>
  /** Resolves with the run once it reaches a terminal status, waiting or paused. */
  settled(runId: string, statuses?: string[]): Promise<RunRecord>
  attempts(runId: string): Promise<StepAttemptRecord[]>
  newEngine(options?: Partial<EngineOptions>): Engine
}

export async function harness(
  options: Partial<EngineOptions> & { register?: (r: ActionRegistry) => void } = {},
): Promise<Harness> {
  const storePath = join(tempDir(), 'engine.db')
  const store = new SqliteStore({ path: storePath })
  await store.migrate()
  const actions = builtinActions()
  options.register?.(actions)
  const events: EngineEvent[] = []
  const engines: Engine[] = []
  const newEngine = (extra: Partial<EngineOptions> = {}): Engine => {
    const engine = new Engine({ store, actions, pollMs: 20, ...options, ...extra })
    engine.onEvent((e) => events.push(e))
    engines.push(engine)
    return engine
  }
  const engine = newEngine()
  const runs = new RunService(store, { engine })
  await engine.start()
  after(async () => {
    for (const e of engines) await e.stop({ graceMs: 100 })
    await store.close()
  })
  const h: Harness = {
    store,
    actions,
    engine,
    runs,
    events,
    storePath,
    async deploy(doc) {
      const { version } = await store.putWorkflowVersion(doc, {
        hash: workflowHash(doc),
        author: 'test',
        now: Date.now(),
      })
      return version
    },
    async start(workflowId, inputs = {}, trigger = { type: 'manual' }) {
      const wf = await store.getWorkflowVersion(workflowId)
      if (!wf) throw new Error(`deploy ${workflowId} first`)
      return runs.submit(wf, inputs, trigger)
    },
    async settled(runId, statuses = ['succeeded', 'failed', 'cancelled', 'timed_out', 'waiting', 'paused']) {
      for (let i = 0; i < 1000; i++) {
        const run = await store.getRun(runId)
        if (run && statuses.includes(run.status)) return run
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`run ${runId} did not settle in 10s: ${(await store.getRun(runId))?.status}`)
    },
    attempts: (runId) => store.listStepAttempts(runId),
    newEngine,
  }
  return h
}
