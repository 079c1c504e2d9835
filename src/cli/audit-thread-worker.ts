/**
 * The audit writer thread (started by `AuditThread`): owns `<data dir>/audit.db` and an `AuditLog` on
 * it, appends the batches the main thread posts, and answers its calls in order.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { AuditLog } from '../audit/audit-log.ts'
import type { AuditEntryInput } from '../core/audit-port.ts'
import { loadOrCreateAuditKey } from '../audit/audit-keys.ts'
import { SqliteAuditStore } from '../store/sqlite/sqlite-audit-store.ts'
import { openAuditDb } from '../store/sqlite/sqlite-audit-db.ts'
import { openSqlite } from '../store/sqlite/sqlite-driver.ts'
import { WalCheckpointer } from '../store/sqlite/wal-checkpointer.ts'
import type { AuditThreadData, AuditThreadReply, AuditThreadRequest } from './audit-thread.ts'

const data = workerData as AuditThreadData

/**
 * The writer is background work: on Linux this thread (only) runs at nice 10, so when both cores
 * are busy the scheduler gives the main thread, which answers requests and runs steps, the larger
 * share. Entries still reach the file within milliseconds unless the machine is saturated.
 * Best effort: elsewhere, or if not allowed, the thread keeps the process's priority.
 */
function lowerThreadPriority(): void {
  try {
    // /proc/thread-self is this thread's own task entry: `<pid>/task/<tid>`
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, data.niceness ?? 10)
  } catch {
    // not Linux, or not permitted: normal priority
  }
}
lowerThreadPriority()
const port = parentPort!
const reply = (message: AuditThreadReply): void => port.postMessage(message)

try {
  const db = openAuditDb(data.auditPath, data.durability)
  const log = await AuditLog.open({
    store: new SqliteAuditStore(db),
    signer: loadOrCreateAuditKey(data.keyFile),
    ...data.options,
    onError: (err) => reply({ kind: 'background-error', message: (err as Error).message ?? String(err) }),
  })
  // calls run one after another, so a `close` never overtakes the writes queued before it
  let chain: Promise<void> = Promise.resolve()
  port.on('message', (request: AuditThreadRequest) => {
    if (request.kind === 'append') {
      for (const entry of JSON.parse(request.entries) as AuditEntryInput[]) {
        try {
          log.append(entry)
        } catch (err) {
          reply({ kind: 'background-error', message: `audit entry refused: ${(err as Error).message}` })
        }
      }
      return
    }
    chain = chain.then(async () => {
      try {
        let value: unknown
        switch (request.method) {
          case 'flush':
            value = await log.flush()
            break
          case 'query':
            value = await log.query(request.arg as Parameters<AuditLog['query']>[0])
            break
          case 'verify':
            value = await log.verify(request.arg as Parameters<AuditLog['verify']>[0])
            break
          case 'checkpoint':
            value = await log.checkpoint()
            break
          case 'exportCheckpoints':
            value = await log.exportCheckpoints()
            break
          case 'close':
            await log.close()
            db.close()
            break
        }
        reply({ kind: 'result', id: request.id, value })
      } catch (err) {
        reply({ kind: 'failed', id: request.id, message: (err as Error).message ?? String(err) })
      }
    })
  })
  if (data.walCheckpoint) {
    const checkpointer = new WalCheckpointer(openSqlite(data.walCheckpoint.storePath, data.durability))
    setInterval(() => {
      try {
        checkpointer.tick()
      } catch (err) {
        reply({ kind: 'background-error', message: `store checkpoint: ${(err as Error).message}` })
      }
    }, data.walCheckpoint.everyMs)
  }
  reply({ kind: 'ready' })
} catch (err) {
  reply({ kind: 'background-error', message: (err as Error).message ?? String(err) })
}
