/**
 * The audit log in the core's vocabulary: what an entry is, what a signed checkpoint is, and the
 * storage port (`store/sqlite/sqlite-audit-store.ts`; a PostgreSQL version fits the same async port).
 * Hashing, signing and verification live in `audit/`; docs/audit.md describes the format.
 */

/** What a component hands to the audit log. Times are epoch milliseconds. */
export interface AuditEntryInput {
  /** Dotted type, the vocabulary of engine events: `event.received`, `run.started`, `step.executed`, … */
  type: string
  at: number
  /** Who caused it: `cli:alice`, `api:token-id`, `engine`, … */
  actor?: string
  workflowId?: string
  runId?: string
  eventId?: string
  /** The component concerned (a handler target, a trust-scored component, `mesh`, `engine`). */
  component?: string
  /** Details, plain JSON (objects are hashed by their own enumerable keys; `toJSON` is not called). */
  data?: unknown
}

/** A stored entry: the input plus its place in the hash chain. */
export interface AuditEntry extends AuditEntryInput {
  /** 1, 2, 3, … without gaps. */
  seq: number
  /** `hash` of entry `seq - 1`; 64 zeros for entry 1. */
  prevHash: string
  /**
   * SHA-256 (hex) of a 0x00 byte followed by the canonical JSON of
   * `{seq, type, at, actor, workflowId, runId, eventId, component, data, prevHash}` (absent members
   * omitted): the RFC 9162 Merkle leaf hash of the entry, so checkpoints are a Merkle tree over entries.
   */
  hash: string
}

/** An entry as written: `data` is kept as the canonical JSON text that was hashed. */
export interface AuditRecord extends Omit<AuditEntry, 'data'> {
  dataJson?: string
}

/** A signed tree head: the Merkle root (RFC 9162) of the first `treeSize` entry hashes. */
export interface AuditCheckpoint {
  treeSize: number
  /** Merkle tree hash, hex. */
  rootHash: string
  /** When it was signed, epoch ms (part of the signed statement). */
  at: number
  /** First 16 hex digits of SHA-256 of the signing public key (SPKI DER). */
  keyId: string
  /** Base64 Ed25519 signature over the checkpoint statement (docs/audit.md). */
  signature: string
}

export interface AuditFilter {
  type?: string | readonly string[]
  workflowId?: string
  runId?: string
  component?: string
  /** Entries at or after this time (epoch ms). */
  since?: number
  /** Entries strictly before this time (epoch ms). */
  until?: number
  /** At most this many entries (the store's default is all). */
  limit?: number
  /** Entries with `seq` above this (paging forwards). */
  afterSeq?: number
  /** Entries with `seq` below this (paging backwards). */
  beforeSeq?: number
  /** `asc` (default): oldest first; `desc`: newest first, so `limit` keeps the most recent. */
  order?: 'asc' | 'desc'
}

/** The checkpoint with the largest tree size, and the compact Merkle range kept with it (if any). */
export interface StoredCheckpoint {
  checkpoint: AuditCheckpoint
  /**
   * Roots of the perfect subtrees covering the first `treeSize` leaves, left to right (hex). Lets a
   * process resume the tree without rereading every entry. Not signed: verification never trusts it.
   */
  range?: string[]
}

/** The tail of the chain moved under a writer: another process appended first. Reload and retry. */
export class AuditAppendConflict extends Error {
  readonly lastSeq: number
  constructor(expectedSeq: number, lastSeq: number) {
    super(`audit append expected to write seq ${expectedSeq} but the log ends at ${lastSeq}`)
    this.name = 'AuditAppendConflict'
    this.lastSeq = lastSeq
  }
}

/** Storage of the audit log. Entries are never updated or deleted through this port. */
export interface AuditStore {
  /**
   * Appends entries in one transaction. The first one must continue the stored chain (its `seq` is
   * the last `seq` + 1 and its `prevHash` the last `hash`); otherwise nothing is written and
   * `AuditAppendConflict` is thrown.
   */
  appendAudit(records: readonly AuditRecord[]): Promise<void>
  lastAudit(): Promise<AuditEntry | undefined>
  /** Up to `limit` entries with `seq >= fromSeq`, ordered by `seq` (verification reads in pages). */
  readAudit(fromSeq: number, limit: number): Promise<AuditEntry[]>
  queryAudit(filter: AuditFilter): Promise<AuditEntry[]>
  auditCount(): Promise<number>
  /** Stores a checkpoint; a second checkpoint of the same tree size is ignored. */
  putCheckpoint(checkpoint: AuditCheckpoint, range?: readonly string[]): Promise<void>
  /** Every stored checkpoint, by tree size. */
  listCheckpoints(): Promise<AuditCheckpoint[]>
  lastCheckpoint(): Promise<StoredCheckpoint | undefined>
}
