import type { NewRun } from '../../core/store-port.ts'
import type { SqliteDb } from './sqlite-driver.ts'

/** Prepares the two inserts that queue a run; the caller owns the transaction. */
export function runInserter(db: SqliteDb): (run: NewRun) => void {
  const insertRun = db.prepare(
    `INSERT INTO workflow_executions (id, workflow_id, workflow_version, status, trigger, inputs, is_test, created_at)
     VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
  )
  const insertQueue = db.prepare('INSERT INTO run_queue (run_id, available_at) VALUES (?, ?)')
  return (run) => {
    insertRun.run(
      run.id,
      run.workflowId,
      run.workflowVersion,
      JSON.stringify(run.trigger),
      JSON.stringify(run.inputs),
      run.isTest ? 1 : 0,
      run.createdAt,
    )
    insertQueue.run(run.id, run.availableAt ?? run.createdAt)
  }
}
