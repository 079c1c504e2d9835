import type { TriggerStateStore } from '../../core/trigger-port.ts'
import type { SqliteDb } from './sqlite-driver.ts'
import { StatementCache } from './sqlite-statements.ts'

/** The trigger state on the connection of `SqliteStore` (`new SqliteTriggerStore(store.handle)`). */
export class SqliteTriggerStore implements TriggerStateStore {
  readonly #stmts: StatementCache
  readonly #now: () => number

  constructor(db: SqliteDb, options: { now?: () => number } = {}) {
    this.#stmts = new StatementCache(db)
    this.#now = options.now ?? Date.now
  }

  async lastTick(workflowId: string, triggerId: string): Promise<number | undefined> {
    const row = this.#stmts
      .q('SELECT last_tick FROM trigger_state WHERE workflow_id = ? AND trigger_id = ?')
      .get(workflowId, triggerId)
    return row === undefined ? undefined : Number(row.last_tick)
  }

  async setLastTick(workflowId: string, triggerId: string, tick: number): Promise<void> {
    // ticks only move forward: a slower process writing an older tick changes nothing
    this.#stmts
      .q(
        `INSERT INTO trigger_state (workflow_id, trigger_id, last_tick, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workflow_id, trigger_id) DO UPDATE SET last_tick = excluded.last_tick, updated_at = excluded.updated_at
         WHERE excluded.last_tick > trigger_state.last_tick`,
      )
      .run(workflowId, triggerId, tick, this.#now())
  }
}
