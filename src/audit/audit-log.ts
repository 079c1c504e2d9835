import {
  AuditAppendConflict,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditEntryInput,
  type AuditFilter,
  type AuditRecord,
  type AuditStore,
} from '../core/audit-port.ts'
import { GENESIS_HASH, rechainRecord, sealEntry } from './audit-hash.ts'
import { signCheckpoint, type AuditSigner } from './audit-keys.ts'
import { verifyAuditLog, type AuditVerifyOptions, type AuditVerifyResult } from './audit-verify.ts'
import { CompactRange } from './merkle.ts'

export interface AuditLogOptions {
  store: AuditStore
  /** Signs checkpoints: `loadOrCreateAuditKey(<data dir>/audit-ed25519.pem)`. */
  signer: AuditSigner
  /** Epoch ms, for checkpoint times. Default `Date.now`. */
  now?: () => number
  /** Sign a checkpoint once this many entries are unsigned. Default 1000; 0: never by count. */
  checkpointEvery?: number
  /** Sign a checkpoint this often (ms) when there are unsigned entries. Default 1 h; 0: no timer. */
  checkpointIntervalMs?: number
  /** Sign the unsigned entries on `close()`. Default true. */
  checkpointOnClose?: boolean
  /** A write or checkpoint failed in the background (the entries stay queued; `flush` retries). */
  onError?: (err: unknown) => void
  /**
   * Queued entries are written at most this often (ms), so a steady stream becomes fewer, larger
   * transactions (each index's last page is written once per transaction). Default 0: each turn's
   * entries at the next `setImmediate`. `flush`, `query`, `verify` and `close` write at once.
   */
  writeEveryMs?: number
}

/** What `exportCheckpoints` writes: keep it somewhere the log's host cannot change. */
export interface AuditCheckpointExport {
  format: 'homeostat-audit-checkpoints/1'
  exportedAt: number
  keyId: string
  /** SPKI PEM of the key that signed the checkpoints. */
  publicKey: string
  checkpoints: AuditCheckpoint[]
}

const PAGE = 5000
const CONFLICT_RETRIES = 20

/**
 * The append-only, hash-chained audit log (docs/audit.md). `append` is synchronous and cheap: the
 * entry is chained in memory and written with every other entry of the same event-loop turn in one
 * transaction (group commit). Writes are serialised; another process appending to the same store is
 * detected by the store (`AuditAppendConflict`) and the queued entries are re-chained after its entries.
 * Checkpoints sign the Merkle root of the whole log every `checkpointEvery` entries, every
 * `checkpointIntervalMs`, on `close()` and on demand.
 */
export class AuditLog {
  readonly #store: AuditStore
  readonly #signer: AuditSigner
  readonly #now: () => number
  readonly #every: number
  readonly #onClose: boolean
  readonly #onError: (err: unknown) => void
  /** The committed tree (every stored entry's leaf). */
  #range = new CompactRange()
  /** Last committed entry's seq and hash. */
  #committed = { seq: 0, hash: GENESIS_HASH }
  /** Last chained entry (committed or queued). */
  #tail = { seq: 0, hash: GENESIS_HASH }
  #pending: AuditRecord[] = []
  #scheduled = false
  readonly #writeEveryMs: number
  #lastWriteAt = 0
  #writing: Promise<void> | undefined
  #signing: Promise<AuditCheckpoint | undefined> = Promise.resolve(undefined)
  #lastCheckpoint: AuditCheckpoint | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  /** Transactions written and entries in them, for tests, benchmarks and metrics. */
  commits = 0
  entriesWritten = 0
  checkpointsSigned = 0

  private constructor(options: AuditLogOptions) {
    this.#store = options.store
    this.#signer = options.signer
    this.#now = options.now ?? Date.now
    this.#every = options.checkpointEvery ?? 1000
    this.#writeEveryMs = options.writeEveryMs ?? 0
    this.#onClose = options.checkpointOnClose ?? true
    this.#onError =
      options.onError ??
      ((err) => process.emitWarning(`audit log: ${(err as Error).message ?? String(err)}`, 'AuditWarning'))
  }

  /** Opens the log: loads its tail and the Merkle tree (from the last checkpoint's compact range). */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options)
    await log.#load()
    const interval = options.checkpointIntervalMs ?? 3_600_000
    if (interval > 0) {
      log.#timer = setInterval(() => {
        if (log.#range.size > (log.#lastCheckpoint?.treeSize ?? 0)) {
          log.checkpoint().catch(log.#onError)
        }
      }, interval)
      log.#timer.unref()
    }
    return log
  }

  async #load(): Promise<void> {
    const stored = await this.#store.lastCheckpoint()
    this.#lastCheckpoint = stored?.checkpoint
    const size = stored?.checkpoint.treeSize ?? 0
    if (stored?.range && size > 0) {
      // resume the tree from the saved compact range when it still fits the stored entries; else
      // rebuild it from the entries (verification reports whatever made it unusable)
      try {
        const range = CompactRange.from(size, stored.range)
        const [at] = await this.#store.readAudit(size, 1)
        if (range.root() === stored.checkpoint.rootHash && at?.seq === size) {
          this.#range = range
          this.#committed = { seq: at.seq, hash: at.hash }
        }
      } catch {
        // a malformed saved range: rebuild
      }
    }
    await this.#catchUp()
    this.#tail = { ...this.#committed }
  }

  /** Adds the stored entries after the committed tail (written by another process, or before start). */
  async #catchUp(): Promise<void> {
    for (let from = this.#committed.seq + 1; ;) {
      const page = await this.#store.readAudit(from, PAGE)
      for (const e of page) {
        this.#range.append(e.hash)
        this.#committed = { seq: e.seq, hash: e.hash }
      }
      if (page.length < PAGE) break
      from = page.at(-1)!.seq + 1
    }
  }

  /** Entries chained so far (written or queued). */
  get size(): number {
    return this.#tail.seq
  }

  /** Entries committed to the store. */
  get committedSize(): number {
    return this.#committed.seq
  }

  /**
   * Chains an entry and queues it; it is written with the rest of this event-loop turn's entries.
   * Throws `TypeError` on an entry without a type or a finite `at`.
   */
  append(entry: AuditEntryInput): void {
    if (this.#closed) throw new Error('the audit log is closed')
    const sealed = sealEntry(entry, this.#tail.seq + 1, this.#tail.hash)
    this.#pending.push(sealed)
    this.#tail = { seq: sealed.seq, hash: sealed.hash }
    if (!this.#scheduled) {
      this.#scheduled = true
      const run = (): void => {
        this.#scheduled = false
        this.#drain().catch(this.#onError)
      }
      const wait = this.#lastWriteAt + this.#writeEveryMs - performance.now()
      if (wait > 0) setTimeout(run, wait)
      else setImmediate(run)
    }
  }

  /** Resolves once every entry appended so far is committed (rejects if the store fails). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#writing) await this.#writing
      else if (this.#pending.length > 0) await this.#drain()
      else return
    }
  }

  /** One writer at a time: writes queued entries until none are left. */
  #drain(): Promise<void> {
    this.#writing ??= (async () => {
      while (this.#pending.length > 0) {
        await this.#write()
        if (this.#every > 0 && this.#range.size - (this.#lastCheckpoint?.treeSize ?? 0) >= this.#every) {
          await this.#sign()
        }
      }
    })().finally(() => {
      this.#writing = undefined
    })
    return this.#writing
  }

  async #write(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const batch = this.#pending
      this.#pending = []
      this.#lastWriteAt = performance.now()
      try {
        await this.#store.appendAudit(batch)
      } catch (err) {
        this.#pending = batch.concat(this.#pending)
        if (!(err instanceof AuditAppendConflict) || attempt >= CONFLICT_RETRIES) throw err
        if (err.lastSeq < this.#committed.seq) {
          throw new Error(
            `the audit log ends at entry ${err.lastSeq} but ${this.#committed.seq} were written: entries were removed (run \`homeostat audit verify\`)`,
            { cause: err },
          )
        }
        await this.#catchUp()
        this.#rechain()
        continue
      }
      for (const e of batch) this.#range.append(e.hash)
      const last = batch.at(-1)!
      this.#committed = { seq: last.seq, hash: last.hash }
      this.commits++
      this.entriesWritten += batch.length
      return
    }
  }

  /** Re-chains the queued entries after the committed tail (another writer got there first). */
  #rechain(): void {
    let prev = this.#committed
    this.#pending = this.#pending.map((e) => {
      const sealed = rechainRecord(e, prev.seq + 1, prev.hash)
      prev = { seq: sealed.seq, hash: sealed.hash }
      return sealed
    })
    this.#tail = { ...prev }
  }

  /** Entries matching the filter, after writing the queued ones. */
  async query(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    await this.flush()
    return this.#store.queryAudit(filter)
  }

  /** Verifies the whole log (docs/audit.md for what is detected); writes the queued entries first. */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    await this.flush()
    return verifyAuditLog(this.#store, this.#signer.publicKey, options)
  }

  /** Writes the queued entries and signs the tree head (returns the last checkpoint if nothing is new). */
  async checkpoint(): Promise<AuditCheckpoint> {
    await this.flush()
    return (await this.#sign())!
  }

  /** Signs the committed tree; serialised, so two callers never sign concurrently. */
  #sign(): Promise<AuditCheckpoint | undefined> {
    this.#signing = this.#signing
      .catch(() => undefined)
      .then(async () => {
        const size = this.#range.size
        if (this.#lastCheckpoint?.treeSize === size) return this.#lastCheckpoint
        const checkpoint = signCheckpoint(this.#signer, {
          treeSize: size,
          rootHash: this.#range.root(),
          at: this.#now(),
        })
        await this.#store.putCheckpoint(checkpoint, this.#range.hashes())
        this.#lastCheckpoint = checkpoint
        this.checkpointsSigned++
        return checkpoint
      })
    return this.#signing
  }

  /** Every stored checkpoint and the public key, to keep elsewhere and pass back to `verify`. */
  async exportCheckpoints(): Promise<AuditCheckpointExport> {
    return {
      format: 'homeostat-audit-checkpoints/1',
      exportedAt: this.#now(),
      keyId: this.#signer.keyId,
      publicKey: this.#signer.publicKey,
      checkpoints: await this.#store.listCheckpoints(),
    }
  }

  /** Stops the timer, writes the queued entries and (by default) signs them. Appending afterwards throws. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    await this.flush()
    if (this.#onClose && this.#range.size > (this.#lastCheckpoint?.treeSize ?? 0)) await this.#sign()
  }
}
