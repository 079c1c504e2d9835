import type { NewRun } from './store-port.ts'

/**
 * An engine in this process that takes runs straight from whoever queues them (the ingest), so they
 * are written already leased to it and start from memory after the commit — no claim transaction,
 * no read back. Runs it has no room for are queued as usual and claimed later, by it or another worker.
 */
export interface RunHandoff {
  /** Lease owner the runs are written under (the engine's worker id). */
  readonly owner: string
  /** Lease length; the runs' lease expiry is `createdAt + leaseMs`. */
  readonly leaseMs: number
  /** Reserves one slot; false when the engine is full, stopping or takes no hand-offs. */
  reserve(): boolean
  /** Gives back reserved slots whose runs were not committed. */
  unreserve(count: number): void
  /** Starts committed runs written under `owner` (each held a reserved slot). */
  adopt(runs: readonly NewRun[]): void
}
