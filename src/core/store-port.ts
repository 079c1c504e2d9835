import type { ErrorRecord } from './errors.ts'
import type { WorkflowDoc } from './workflow.ts'

/**
 * The store as the engine and the adapters see it, in the core's vocabulary. Implementations:
 * `store/sqlite/sqlite-store.ts` (embedded default) and, later, PostgreSQL. Every method is async
 * so that a networked store fits the same port. Times are epoch milliseconds.
 */

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
])

export const STEP_STATUSES = [
  'running',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'interrupted',
] as const
export type StepAttemptStatus = (typeof STEP_STATUSES)[number]

/** What started a run. */
export interface TriggerInfo {
  type: string
  [key: string]: unknown
}

export interface WorkflowVersionRecord {
  workflowId: string
  version: number
  hash: string
  definition: WorkflowDoc
  author: string
  createdAt: number
  sourcePath?: string
}

export interface WorkflowSummary {
  id: string
  name?: string
  latestVersion: number
  enabled: boolean
  sourcePath?: string
  updatedAt: number
  stats: WorkflowStats
}

/** The source document's workflow metadata, kept per workflow. */
export interface WorkflowStats {
  executions: number
  succeeded: number
  failed: number
  lastRunAt?: number
  lastStatus?: RunStatus
  /** Mean duration of finished runs, ms. */
  averageRuntimeMs: number
  /** succeeded / finished, 0..1; 0 when nothing finished yet. */
  successRate: number
}

export interface NewRun {
  id: string
  workflowId: string
  workflowVersion: number
  trigger: TriggerInfo
  inputs: Record<string, unknown>
  isTest?: boolean
  createdAt: number
  /** Not claimable before this time (default: now). */
  availableAt?: number
  /** Written already leased to this worker (see `RunHandoff`): status `running`, claimed once. */
  leasedTo?: { owner: string; expiresAt: number }
}

export interface RunRecord {
  id: string
  workflowId: string
  workflowVersion: number
  status: RunStatus
  trigger: TriggerInfo
  inputs: Record<string, unknown>
  output?: unknown
  error?: ErrorRecord
  /** 1 for the first execution; `runs retry` increments it. */
  attempt: number
  isTest: boolean
  createdAt: number
  startedAt?: number
  endedAt?: number
  durationMs?: number
  /** Absolute deadline of the whole run (settings.timeout), fixed when the run first starts. */
  deadlineAt?: number
  /** A pending request from another process: `cancel` or `pause`. */
  control?: 'cancel' | 'pause'
}

/** One row per step attempt; iteration 0 for plain steps, 0..n-1 per item and -1 for a foreach summary. */
export interface StepAttemptRecord {
  runId: string
  stepId: string
  iteration: number
  attempt: number
  runAttempt: number
  status: StepAttemptStatus
  input?: unknown
  output?: unknown
  error?: ErrorRecord
  /** Skip reason, wait details, log lines. */
  detail?: unknown
  startedAt: number
  endedAt?: number
  durationMs?: number
  idempotencyKey?: string
}

export interface RunSignal {
  id: number
  runId: string
  name: string
  payload: unknown
  createdAt: number
}

/** A run handed to a worker: the run row plus, when it has history, its attempts and pending signals. */
export interface ClaimedRun {
  run: RunRecord
  /** Empty for a run that never started before. */
  attempts: StepAttemptRecord[]
  signals: RunSignal[]
}

/** Durable changes produced by the engine; applied in order, in one transaction per batch. */
export type ProgressOp =
  | { op: 'attempt'; row: StepAttemptRecord }
  | { op: 'run_started'; runId: string; startedAt: number; deadlineAt?: number }
  | {
      op: 'run_finished'
      runId: string
      workflowId: string
      status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'
      output?: unknown
      error?: ErrorRecord
      endedAt: number
      durationMs: number
    }
  /** Release the run: `waiting` keeps it queued until `wakeAt` (or a signal); `paused` takes it off the queue. */
  | { op: 'run_parked'; runId: string; status: 'waiting' | 'paused'; wakeAt?: number }
  | { op: 'signal_consumed'; signalId: number }

export interface CommitResult {
  /** Runs whose lease this owner no longer holds: their ops were skipped; the caller must drop them. */
  lostRuns: string[]
}

export interface RunFilter {
  workflowId?: string
  status?: RunStatus[]
  limit?: number
  /** Runs created before this run id (pagination, newest first). */
  before?: string
}

export interface WorkerInfo {
  id: string
  host: string
  pid: number
  startedAt: number
  heartbeatAt: number
}

export interface Store {
  /** Applies pending migrations; idempotent. */
  migrate(): Promise<{ applied: string[]; version: number }>
  close(): Promise<void>

  // workflows
  /** Stores a new version when the content hash differs from the latest; returns the version in force. */
  putWorkflowVersion(
    doc: WorkflowDoc,
    meta: { hash: string; author: string; sourcePath?: string; now: number },
  ): Promise<{ version: number; created: boolean }>
  getWorkflowVersion(id: string, version?: number): Promise<WorkflowVersionRecord | undefined>
  listWorkflowVersions(id: string): Promise<Omit<WorkflowVersionRecord, 'definition'>[]>
  listWorkflows(): Promise<WorkflowSummary[]>
  setWorkflowEnabled(id: string, enabled: boolean, now: number): Promise<boolean>

  // runs
  enqueueRuns(runs: NewRun[]): Promise<void>
  getRun(id: string): Promise<RunRecord | undefined>
  listRuns(filter: RunFilter): Promise<RunRecord[]>
  listStepAttempts(runId: string): Promise<StepAttemptRecord[]>

  // worker side
  registerWorker(worker: WorkerInfo): Promise<void>
  unregisterWorker(id: string): Promise<void>
  listWorkers(): Promise<WorkerInfo[]>
  /** Claims up to `limit` runs that are due and unleased (or whose lease expired); marks them running. */
  claimRuns(
    owner: string,
    limit: number,
    now: number,
    leaseMs: number,
    onlyRunIds?: readonly string[],
  ): Promise<ClaimedRun[]>
  /** Extends the lease of every run this owner holds and its worker heartbeat. */
  renewLeases(owner: string, now: number, leaseMs: number): Promise<void>
  /** Frees leases held by owners known to be dead (e.g. a local pid that no longer exists). */
  releaseLeases(owners: readonly string[]): Promise<number>
  /** Releases every lease of `owner` (graceful shutdown): its runs are claimable again at once. */
  releaseOwner(owner: string): Promise<void>
  commitProgress(owner: string, ops: readonly ProgressOp[]): Promise<CommitResult>
  /**
   * Optional: calls `flush` once at the start of the store's next write turn; the writes `flush`
   * starts synchronously (`commitProgress`, `appendEvents`) share that turn's transaction. The
   * engine's group commit and the ingest schedule through it when the store has it, so one
   * transaction per event-loop turn carries both (SQLite: `TurnTransaction`).
   */
  schedule?(flush: () => void): void
  /** Pending cancel/pause requests for runs this owner holds. */
  pendingControls(owner: string): Promise<Array<{ runId: string; control: 'cancel' | 'pause' }>>
  /** A cheap token that changes when another connection wrote to the store (skip polls when unchanged). */
  changeToken(): Promise<number>

  // control from any process
  /** Sets a pending cancel/pause for a leased run; returns false when the run is not leased. */
  requestControl(runId: string, control: 'cancel' | 'pause', now: number): Promise<boolean>
  /** Finishes an unleased run directly (cancel of a queued, waiting or paused run). */
  finishUnleasedRun(runId: string, status: 'cancelled', now: number, error?: ErrorRecord): Promise<boolean>
  /** Pauses a run no worker holds (queued or waiting): it leaves the queue until resumed. */
  pauseUnleasedRun(runId: string, now: number): Promise<boolean>
  /** Signals delivered to a run and not consumed yet, oldest first. */
  listPendingSignals(runId: string): Promise<RunSignal[]>
  /** Puts a paused run back on the queue. */
  resumeRun(runId: string, now: number): Promise<boolean>
  /** Re-queues a finished run for another attempt: `resetSteps` attempts are superseded. */
  retryRun(runId: string, now: number): Promise<boolean>
  /** Records a signal and makes a waiting run due. */
  deliverSignal(runId: string, name: string, payload: unknown, now: number): Promise<number>
}
