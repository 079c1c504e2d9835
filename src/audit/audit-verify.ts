import type { AuditCheckpoint, AuditEntry, AuditStore } from '../core/audit-port.ts'
import { GENESIS_HASH, hashEntry } from './audit-hash.ts'
import { checkpointSignatureValid, keyIdOf } from './audit-keys.ts'
import { CompactRange } from './merkle.ts'

export type AuditBadReason =
  'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'bad_signature' | 'root_mismatch'

export interface AuditBadEntry {
  /** The first entry that is not what was written (for `root_mismatch`: the first one that may not be). */
  seq: number
  reason: AuditBadReason
  message: string
  /** The checkpoint that exposed it (`bad_signature`, `root_mismatch`, `truncated`). */
  checkpoint?: AuditCheckpoint & { source: 'stored' | 'exported' }
}

export type AuditVerifyResult =
  | {
      ok: true
      entries: number
      checkpointsVerified: number
      /** Tree size of the largest verified checkpoint (0 when none). */
      signedSize: number
      /**
       * Entries after the largest verified checkpoint: their chain is intact, but nothing signed covers
       * them yet, so they could have been appended, rewritten or cut off by someone with write access.
       */
      unsignedTail: number
    }
  | { ok: false; entries: number; firstBad: AuditBadEntry }

export interface AuditVerifyOptions {
  /** Checkpoints kept elsewhere (an `audit export` file): checked like the stored ones. */
  checkpoints?: readonly AuditCheckpoint[]
  /**
   * Public key (PEM) of the exported checkpoints. Exported checkpoints must be signed by it; stored
   * ones by it or by the local key. Default: the local key only.
   */
  publicKey?: string
  /** Entries read per page (default 2000). */
  pageSize?: number
}

/** How far around a misplaced entry verification looks for where it came from. */
const WINDOW = 1024

type Source = 'stored' | 'exported'
type Candidate = AuditCheckpoint & { source: Source }

const iso = (at: number): string => (Math.abs(at) <= 8.64e15 ? new Date(at).toISOString() : String(at))
const short = (hash: string): string => `${hash.slice(0, 12)}…`
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Whether `row`'s content hashes to its `hash` when placed at `seq`. */
const fitsAt = (row: AuditEntry, seq: number): boolean => seq >= 1 && hashEntry({ ...row, seq }) === row.hash

/**
 * Streams the whole log in pages and checks what the hash chain and the checkpoints promise:
 * every entry's hash is recomputed, every `prevHash` link and the `seq` sequence are checked, and
 * every checkpoint (stored and exported) must carry a valid signature and equal the Merkle root of
 * the first `treeSize` entries. Stops at the first problem and names it (docs/audit.md).
 */
export async function verifyAuditLog(
  store: AuditStore,
  localPublicKey: string | undefined,
  options: AuditVerifyOptions = {},
): Promise<AuditVerifyResult> {
  const pageSize = options.pageSize ?? 2000
  const storedKeys = new Map<string, string>()
  const exportedKeys = new Map<string, string>()
  if (localPublicKey) storedKeys.set(keyIdOf(localPublicKey), localPublicKey)
  if (options.publicKey) {
    const id = keyIdOf(options.publicKey)
    storedKeys.set(id, options.publicKey)
    exportedKeys.set(id, options.publicKey)
  } else {
    for (const [id, pem] of storedKeys) exportedKeys.set(id, pem)
  }
  const checkpoints: Candidate[] = [
    ...(await store.listCheckpoints()).map((c) => ({ ...c, source: 'stored' as const })),
    ...(options.checkpoints ?? []).map((c) => ({ ...c, source: 'exported' as const })),
  ].sort((a, b) => a.treeSize - b.treeSize)

  const malformed = checkpoints.find((c) => !Number.isSafeInteger(c.treeSize) || c.treeSize < 0)
  if (malformed) {
    return {
      ok: false,
      entries: 0,
      firstBad: {
        seq: 1,
        reason: 'bad_signature',
        message: `the ${malformed.source} checkpoint of size ${String(malformed.treeSize)} is malformed: it was altered or forged`,
        checkpoint: malformed,
      },
    }
  }

  const range = new CompactRange()
  let prevHash = GENESIS_HASH
  let next = 0 // index into checkpoints
  let verified = 0
  let signedSize = 0

  /** Checks the checkpoints of the current tree size; the first bad one, if any. */
  const checkpointsAtSize = (): AuditBadEntry | undefined => {
    const size = range.size
    if (next >= checkpoints.length || checkpoints[next]!.treeSize !== size) return undefined
    const here: Candidate[] = []
    for (; next < checkpoints.length && checkpoints[next]!.treeSize === size; next++)
      here.push(checkpoints[next]!)
    for (const c of here) {
      const pem = (c.source === 'stored' ? storedKeys : exportedKeys).get(c.keyId)
      if (pem && checkpointSignatureValid(c, pem)) continue
      return {
        seq: Math.max(size, 1),
        reason: 'bad_signature',
        message: pem
          ? `the ${c.source} checkpoint of size ${size} (signed ${iso(c.at)}) has an invalid signature: it was altered or forged`
          : `the ${c.source} checkpoint of size ${size} is signed by key ${c.keyId}, which is not trusted here${c.source === 'stored' ? ' (was the key file replaced? pass the exported file, which names its key)' : ''}`,
        checkpoint: c,
      }
    }
    const root = range.root()
    const wrong = here.find((c) => c.rootHash !== root)
    if (wrong) {
      // every entry up to the last size where all checkpoints agreed is proven; the rewrite is after it
      const from = signedSize + 1
      return {
        seq: Math.min(from, Math.max(size, 1)),
        reason: 'root_mismatch',
        message: `${from === size ? `entry ${size} does` : `entries ${from}..${size} do`} not match the ${wrong.source} checkpoint of size ${size} signed ${iso(wrong.at)}: at least one was rewritten (with recomputed hashes) after it was signed`,
        checkpoint: wrong,
      }
    }
    verified += here.length
    signedSize = size
    return undefined
  }

  const early = checkpointsAtSize()
  if (early) return { ok: false, entries: 0, firstBad: early }
  let from = 1
  for (;;) {
    const page = await store.readAudit(from, pageSize)
    for (const row of page) {
      const expected = range.size + 1
      if (row.seq !== expected || row.prevHash !== prevHash || hashEntry(row) !== row.hash) {
        const firstBad = await diagnose(store, row, expected, prevHash)
        return { ok: false, entries: range.size, firstBad }
      }
      range.append(row.hash)
      prevHash = row.hash
      const bad = checkpointsAtSize()
      if (bad) return { ok: false, entries: range.size, firstBad: bad }
    }
    if (page.length < pageSize) break
    from = page.at(-1)!.seq + 1
  }
  if (next < checkpoints.length) {
    const c = checkpoints.at(-1)!
    const size = range.size
    return {
      ok: false,
      entries: size,
      firstBad: {
        seq: size + 1,
        reason: 'truncated',
        message: `the log ends at entry ${size}, but the ${c.source} checkpoint signed ${iso(c.at)} covers ${c.treeSize}: entries ${size + 1}..${c.treeSize} were removed`,
        checkpoint: c,
      },
    }
  }
  return {
    ok: true,
    entries: range.size,
    checkpointsVerified: verified,
    signedSize,
    unsignedTail: range.size - signedSize,
  }
}

/**
 * Names what happened at the first entry that does not continue the chain. Runs once per
 * verification, so it may read around the entry: it looks for the position the entry's content was
 * hashed at (it moved: inserted, deleted or reordered entries) and for the entry's predecessor.
 */
async function diagnose(
  store: AuditStore,
  row: AuditEntry,
  expected: number,
  prevHash: string,
): Promise<AuditBadEntry> {
  if (row.seq > expected) {
    const last = row.seq - 1
    return {
      seq: expected,
      reason: 'deleted',
      message:
        last === expected
          ? `entry ${expected} is missing (entry ${row.seq} follows entry ${expected - 1})`
          : `entries ${expected}..${last} are missing (entry ${row.seq} follows entry ${expected - 1})`,
    }
  }
  if (row.seq < expected) {
    return {
      seq: row.seq,
      reason: 'inserted',
      message: `entry ${row.seq} appears again after entry ${expected - 1}`,
    }
  }
  const earlier = await store.readAudit(Math.max(1, expected - WINDOW), Math.min(WINDOW, expected - 1))
  const selfOk = hashEntry(row) === row.hash
  if (selfOk) {
    // the entry is intact where it stands, but its predecessor is not the one it was chained to
    const pointsTo = earlier.find((e) => e.hash === row.prevHash)
    if (pointsTo && pointsTo.seq < expected - 1) {
      return {
        seq: pointsTo.seq + 1,
        reason: 'inserted',
        message: `entry ${expected} was chained to entry ${pointsTo.seq}: ${plural(expected - 1 - pointsTo.seq, 'entry')} from ${pointsTo.seq + 1} were inserted before it`,
      }
    }
    if (expected === 1) {
      return {
        seq: 1,
        reason: 'modified',
        message: `entry 1 does not start the chain (prevHash ${short(row.prevHash)}): it was replaced`,
      }
    }
    return {
      seq: expected - 1,
      reason: 'modified',
      message: `entry ${expected - 1} was rewritten and its hash recomputed: it hashes to ${short(prevHash)}, but entry ${expected} was chained to ${short(row.prevHash)}`,
    }
  }
  // the content does not hash at this position: did it come from another one?
  const hint = earlier.find((e) => e.hash === row.prevHash)
  const candidates = hint ? [hint.seq + 1] : []
  for (let d = 1; d <= WINDOW; d++) candidates.push(expected - d, expected + d)
  const origin = candidates.find((s) => s !== expected && fitsAt(row, s))
  if (origin !== undefined && origin < expected) {
    return {
      seq: origin,
      reason: 'inserted',
      message: `entry ${expected} holds the original entry ${origin}: ${plural(expected - origin, 'entry')} were inserted from ${origin} and the rest renumbered`,
    }
  }
  const later = await store.readAudit(expected + 1, WINDOW)
  if (origin !== undefined) {
    const moved = later.find((e) => fitsAt(e, expected))
    if (moved) {
      return {
        seq: expected,
        reason: 'reordered',
        message: `entries were reordered: entry ${expected} holds the original entry ${origin}, and the original entry ${expected} is at ${moved.seq}`,
      }
    }
    return {
      seq: expected,
      reason: 'deleted',
      message: `entry ${expected} holds the original entry ${origin}: ${plural(origin - expected, 'entry')} from ${expected} were deleted and the rest renumbered`,
    }
  }
  if (later[0]?.seq === expected + 1 && fitsAt(later[0], expected)) {
    return {
      seq: expected,
      reason: 'inserted',
      message: `entry ${expected} was inserted: the original entry ${expected} now sits at ${expected + 1}`,
    }
  }
  return {
    seq: expected,
    reason: 'modified',
    message: `entry ${expected} was modified: its content no longer hashes to its recorded hash ${short(row.hash)}`,
  }
}
