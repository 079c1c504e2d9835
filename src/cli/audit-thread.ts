import { Worker } from 'node:worker_threads'
import type { AuditCheckpointExport, AuditLogOptions } from '../audit/audit-log.ts'
import type { AuditVerifyOptions, AuditVerifyResult } from '../audit/audit-verify.ts'
import type { AuditCheckpoint, AuditEntry, AuditEntryInput, AuditFilter } from '../core/audit-port.ts'
import type { Durability } from '../store/sqlite/sqlite-driver.ts'

/**
 * What the rest of the process sees of the audit log, in this thread (`AuditLog`) or in a worker
 * thread (`AuditThread`): `append` is synchronous and cheap; the rest resolve once the entries appended
 * before them are committed.
 */
export interface AuditHandle {
  append(entry: AuditEntryInput): void
  flush(): Promise<void>
  query(filter?: AuditFilter): Promise<AuditEntry[]>
  verify(options?: AuditVerifyOptions): Promise<AuditVerifyResult>
  checkpoint(): Promise<AuditCheckpoint>
  exportCheckpoints(): Promise<AuditCheckpointExport>
  close(): Promise<void>
  /** Entries this process wrote (or handed to the writer thread). */
  readonly entriesWritten: number
}

/** What the writer thread is started with (`workerData`). */
export interface AuditThreadData {
  auditPath: string
  keyFile: string
  durability: Durability
  options: Pick<
    AuditLogOptions,
    'checkpointEvery' | 'checkpointIntervalMs' | 'checkpointOnClose' | 'writeEveryMs'
  >
  /**
   * The store file whose WAL this thread checkpoints (PASSIVE, every `everyMs`), so the main thread's
   * commits never stop to copy pages back and fsync; its connection then runs with autocheckpoint off.
   */
  walCheckpoint?: { storePath: string; everyMs: number }
  /** Scheduling niceness of the writer thread on Linux (default 10: below the main thread). */
  niceness?: number
}

export type AuditThreadRequest =
  /** The entries as one JSON text: far cheaper to post than structured-cloning the objects. */
  | { kind: 'append'; entries: string }
  | {
      kind: 'call'
      id: number
      method: 'flush' | 'query' | 'verify' | 'checkpoint' | 'exportCheckpoints' | 'close'
      arg?: unknown
    }

export type AuditThreadReply =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'background-error'; message: string }

/**
 * Entries are handed to the writer thread every few milliseconds (or once this many are waiting):
 * a message per event-loop turn cost the main thread more than the entries themselves. Calls
 * (`flush`, `query`, …) send what is waiting first.
 */
const SEND_EVERY_MS = 5
const SEND_AT = 512

/**
 * The audit log written by a worker thread (`serve`, `worker`): hashing, chaining, inserts and
 * checkpoint signatures run on the second core, and the main thread only batches entries — one
 * message per event-loop turn. The thread owns `<data dir>/audit.db`; nothing else writes it meanwhile.
 */
export class AuditThread implements AuditHandle {
  readonly #worker: Worker
  readonly #onError: (err: unknown) => void
  #batch: AuditEntryInput[] = []
  #scheduled = false
  #nextId = 1
  readonly #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  #dead: Error | undefined
  #closed: Promise<void> | undefined
  #ended = false
  entriesWritten = 0

  readonly #onDead: () => void

  private constructor(worker: Worker, onError: (err: unknown) => void, onDead: () => void) {
    this.#worker = worker
    this.#onError = onError
    this.#onDead = onDead
    worker.on('message', (reply: AuditThreadReply) => this.#receive(reply))
    worker.on('error', (err) => this.#fail(err))
    worker.on('exit', (code) => {
      if (!this.#ended) this.#fail(new Error(`the audit writer thread exited (code ${code})`))
    })
  }

  /** Starts the writer thread; resolves once it has opened the log. */
  static async start(
    data: AuditThreadData,
    onError: (err: unknown) => void,
    onDead: () => void = () => {},
  ): Promise<AuditThread> {
    const worker = new Worker(new URL('./audit-thread-worker.ts', import.meta.url), { workerData: data })
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: AuditThreadReply): void => {
        if (reply.kind !== 'ready' && reply.kind !== 'background-error') return
        worker.off('message', onMessage)
        worker.off('error', reject)
        if (reply.kind === 'ready') resolve()
        else reject(new Error(`audit log: ${reply.message}`))
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
    })
    return new AuditThread(worker, onError, onDead)
  }

  append(entry: AuditEntryInput): void {
    if (this.#closed) throw new Error('the audit log is closed')
    if (this.#dead) throw new Error(`the audit writer thread is gone: ${this.#dead.message}`)
    if (typeof entry.type !== 'string' || entry.type === '' || !Number.isFinite(entry.at))
      throw new TypeError('an audit entry needs a type and a finite `at`')
    this.#batch.push(entry)
    this.entriesWritten++
    if (this.#batch.length >= SEND_AT) this.#send()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setTimeout(() => this.#send(), SEND_EVERY_MS).unref()
    }
  }

  #send(): void {
    this.#scheduled = false
    if (this.#batch.length === 0 || this.#dead) return
    const entries = this.#batch
    this.#batch = []
    this.#worker.postMessage({
      kind: 'append',
      entries: JSON.stringify(entries),
    } satisfies AuditThreadRequest)
  }

  #call<T>(method: Extract<AuditThreadRequest, { kind: 'call' }>['method'], arg?: unknown): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead)
    this.#send() // entries appended before the call are written before it runs
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#worker.postMessage({ kind: 'call', id, method, arg } satisfies AuditThreadRequest)
    })
  }

  #receive(reply: AuditThreadReply): void {
    if (reply.kind === 'background-error') {
      this.#onError(new Error(reply.message))
      return
    }
    if (reply.kind === 'ready') return
    const call = this.#calls.get(reply.id)
    if (!call) return
    this.#calls.delete(reply.id)
    if (reply.kind === 'result') call.resolve(reply.value)
    else call.reject(new Error(reply.message))
  }

  #fail(err: Error): void {
    if (this.#dead) return
    this.#dead = err
    this.#onError(err)
    this.#onDead()
    for (const call of this.#calls.values()) call.reject(err)
    this.#calls.clear()
  }

  flush(): Promise<void> {
    return this.#call('flush')
  }
  query(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    return this.#call('query', filter)
  }
  verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    return this.#call('verify', options)
  }
  checkpoint(): Promise<AuditCheckpoint> {
    return this.#call('checkpoint')
  }
  exportCheckpoints(): Promise<AuditCheckpointExport> {
    return this.#call('exportCheckpoints')
  }

  /** Writes what is queued, closes the log (signing per its options) and ends the thread. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (!this.#dead) await this.#call('close')
      this.#ended = true
      await this.#worker.terminate()
    })()
    return this.#closed
  }
}
