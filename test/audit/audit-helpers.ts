import { join } from 'node:path'
import { AuditLog, type AuditLogOptions } from '../../src/audit/audit-log.ts'
import { loadOrCreateAuditKey } from '../../src/audit/audit-keys.ts'
import type { AuditEntryInput } from '../../src/core/audit-port.ts'
import { SqliteAuditStore } from '../../src/store/sqlite/sqlite-audit-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'

export interface OpenedLog {
  log: AuditLog
  store: SqliteStore
  audit: SqliteAuditStore
  keyFile: string
  close: () => Promise<void>
}

/** A real SQLite store file in `dir` with its audit log; no timer unless asked. */
export async function openLog(
  dir: string,
  options: Partial<Omit<AuditLogOptions, 'store'>> = {},
  file = 'store.db',
): Promise<OpenedLog> {
  const store = new SqliteStore({ path: join(dir, file) })
  await store.migrate()
  const audit = new SqliteAuditStore(store.handle)
  const keyFile = join(dir, 'audit-ed25519.pem')
  const log = await AuditLog.open({
    store: audit,
    signer: loadOrCreateAuditKey(keyFile),
    checkpointIntervalMs: 0,
    ...options,
  })
  return {
    log,
    store,
    audit,
    keyFile,
    close: async () => {
      await log.close()
      await store.close()
    },
  }
}

/** The i-th entry of a small, varied trace (the shape of the source document's step 7). */
export function traceEntry(i: number, at = 1_700_000_000_000 + i * 60_000): AuditEntryInput {
  const run = `run-${Math.floor(i / 10)}`
  const workflowId = `wf-${Math.floor(i / 10) % 3}`
  switch (i % 10) {
    case 0:
      return {
        type: 'event.received',
        at,
        eventId: `evt-${i}`,
        data: { type: 'kpi.threshold_breach', source: 'monitor' },
      }
    case 1:
      return { type: 'routing.decided', at, eventId: `evt-${i - 1}`, data: { matched: [workflowId] } }
    case 2:
      return { type: 'run.started', at, workflowId, runId: run, actor: 'engine' }
    case 9:
      return {
        type: 'workflow.completed',
        at,
        workflowId,
        runId: run,
        data: { workflow_name: workflowId, status: 'succeeded', successful_actions: 6, total_actions: 6 },
      }
    default:
      return {
        type: 'step.executed',
        at,
        workflowId,
        runId: run,
        component: i % 4 === 0 ? 'db-primary' : undefined,
        data: {
          step: `s${i % 10}`,
          action: 'http.request',
          target: 'https://api.example/x',
          result: 'SUCCESS',
          latency_ms: i,
        },
      }
  }
}
