import { triggerTypesOf } from '../core/trigger-types.ts'
import type { EventIngest } from '../mesh/ingest.ts'
import type { WorkflowRegistry } from '../mesh/workflow-registry.ts'
import { SqliteTriggerStore } from '../store/sqlite/sqlite-trigger-store.ts'
import { fileChangeTriggerSource } from '../triggers/file-change-trigger.ts'
import { scheduleTriggerSource } from '../triggers/schedule-trigger.ts'
import { TriggerManager } from '../triggers/trigger-manager.ts'
import type { App } from './app.ts'

/**
 * Wires the trigger sources of a server: schedules (state in the store), file watchers (inside
 * `files.roots`) and the plugins' trigger types, all publishing through the ingest. Resolves once
 * every trigger in force is running (file watchers ready).
 */
export async function startTriggers(
  app: App,
  registry: WorkflowRegistry,
  ingest: EventIngest,
): Promise<TriggerManager> {
  const manager = new TriggerManager({
    workflows: registry,
    // trigger events travel as `trigger`: the only way (with in-process code) targeted types get in
    publisher: { publish: (event, options) => ingest.publish(event, { ...options, via: 'trigger' }) },
    sources: [
      scheduleTriggerSource({ state: new SqliteTriggerStore(app.store.handle) }),
      fileChangeTriggerSource({ roots: app.config.files.roots }),
      ...triggerTypesOf(app.actions).list(),
    ],
    timezone: app.config.timezone,
    baseDir: app.config.baseDir,
    log: app.log,
  })
  await manager.start()
  return manager
}
