import type { NewRun } from '../../core/store-port.ts'
import type { SqliteDb } from './sqlite-driver.ts'

/**
 * Prepares the two inserts that queue a run; the caller owns the transaction. A run `leasedTo` a
 * worker is written as that worker's claim would leave it: `running`, claimed once, its queue row
 * leased (and, like every leased row, not due before the lease expires).
 */
export function runInserter(db: SqliteDb): (run: NewRun, triggerJson?: string) => void {
  const insertRun = db.prepare(
    `INSERT INTO workflow_executions (id, workflow_id, workflow_version, status, trigger, inputs, is_test, created_at, claim_count, started_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertQueue = db.prepare(
    'INSERT INTO run_queue (run_id, available_at, lease_owner, lease_expires_at) VALUES (?, ?, ?, ?)',
  )
  return (run, triggerJson) => {
    const leased = run.leasedTo
    insertRun.run(
      run.id,
      run.workflowId,
      run.workflowVersion,
      leased ? 'running' : 'queued',
      triggerJson ?? JSON.stringify(run.trigger),
      JSON.stringify(run.inputs),
      run.isTest ? 1 : 0,
      run.createdAt,
      leased ? 1 : 0,
      leased ? run.createdAt : null,
    )
    if (leased) insertQueue.run(run.id, leased.expiresAt, leased.owner, leased.expiresAt)
    else insertQueue.run(run.id, run.availableAt ?? run.createdAt, null, null)
  }
}
