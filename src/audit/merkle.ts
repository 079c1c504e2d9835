import { createHash, hash } from 'node:crypto'

/**
 * The Merkle tree of RFC 9162 §2.1 (Certificate Transparency 2.0, same as RFC 6962): the leaf hash is
 * SHA-256(0x00 || leaf), an interior node SHA-256(0x01 || left || right), and a tree of n > 1 leaves
 * splits at the largest power of two strictly smaller than n. The domain separation of leaves and
 * nodes is what makes a forged interior node unable to pass for a leaf.
 *
 * Functions here take leaf hashes (already `leafHash`ed), 32-byte buffers.
 */

const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest()

export function leafHash(leaf: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(leaf).digest()
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest()
}

/** The largest power of two strictly smaller than `n` (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function mth(leaves: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const n = hi - lo
  if (n === 0) return EMPTY_ROOT
  if (n === 1) return Buffer.from(leaves[lo]!)
  const k = splitPoint(n)
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi))
}

/** MTH(D[n]) of RFC 9162 §2.1.1 over the given leaf hashes. */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Buffer {
  return mth(leafHashes, 0, leafHashes.length)
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of all given leaves. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) {
    throw new RangeError(`leaf ${index} is not in a tree of ${leafHashes.length}`)
  }
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    const n = hi - lo
    if (n === 1) return []
    const k = splitPoint(n)
    return m < k
      ? [...path(m, lo, lo + k), mth(leafHashes, lo + k, hi)]
      : [...path(m - k, lo + k, hi), mth(leafHashes, lo, lo + k)]
  }
  return path(index, 0, leafHashes.length)
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the first `m` leaves are a prefix of all the given leaves. */
export function consistencyProof(leafHashes: readonly Uint8Array[], m: number): Buffer[] {
  const n = leafHashes.length
  if (!Number.isInteger(m) || m < 0 || m > n) throw new RangeError(`tree size ${m} is not within 0..${n}`)
  if (m === 0 || m === n) return []
  const subproof = (m1: number, lo: number, hi: number, complete: boolean): Buffer[] => {
    const n1 = hi - lo
    if (m1 === n1) return complete ? [] : [mth(leafHashes, lo, hi)]
    const k = splitPoint(n1)
    return m1 <= k
      ? [...subproof(m1, lo, lo + k, complete), mth(leafHashes, lo + k, hi)]
      : [...subproof(m1 - k, lo + k, hi, false), mth(leafHashes, lo, lo + k)]
  }
  return subproof(m, 0, n, true)
}

const HEX64 = /^[0-9a-f]{64}$/

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

/** The verification algorithm of RFC 9162 §2.1.3.2. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false
  let fn = BigInt(index)
  let sn = BigInt(size - 1)
  let r: Uint8Array = leaf
  for (const p of proof) {
    if (sn === 0n) return false
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r)
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n
          sn >>= 1n
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn >>= 1n
    sn >>= 1n
  }
  return sn === 0n && equal(r, root)
}

/** The verification algorithm of RFC 9162 §2.1.4.2 (plus its trivial cases: equal sizes, empty first tree). */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Uint8Array[],
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
): boolean {
  if (!Number.isInteger(first) || !Number.isInteger(second) || first < 0 || first > second) return false
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot)
  if (first === 0) return proof.length === 0
  if (proof.length === 0) return false
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof]
  let fn = BigInt(first - 1)
  let sn = BigInt(second - 1)
  while ((fn & 1n) === 1n) {
    fn >>= 1n
    sn >>= 1n
  }
  let fr: Uint8Array = path[0]!
  let sr: Uint8Array = path[0]!
  for (const c of path.slice(1)) {
    if (sn === 0n) return false
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n
        sn >>= 1n
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn >>= 1n
    sn >>= 1n
  }
  return equal(fr, firstRoot) && equal(sr, secondRoot) && sn === 0n
}

const scratch = Buffer.alloc(65)

/** `nodeHash` over hex strings, without allocating buffers: the hot path of `CompactRange`. */
function nodeHashHex(left: string, right: string): string {
  scratch[0] = 1
  scratch.write(left, 1, 32, 'hex')
  scratch.write(right, 33, 32, 'hex')
  return hash('sha256', scratch, 'hex')
}

/**
 * The tree grown one leaf at a time in O(log n) memory: the roots of the perfect subtrees that cover
 * the leaves so far (one per set bit of `size`, largest first), hex. Its root equals `merkleRoot` of
 * the same leaves; appending costs one hash per trailing one-bit of the size (one on average).
 */
export class CompactRange {
  #size = 0
  #nodes: string[] = []

  /** Resumes a range saved by `hashes()`; throws when the count does not fit the size. */
  static from(size: number, hashes: readonly string[]): CompactRange {
    let bits = 0
    for (let s = size; s > 0; s = Math.floor(s / 2)) bits += s % 2
    if (!Number.isSafeInteger(size) || size < 0 || bits !== hashes.length) {
      throw new RangeError(`a compact range of size ${size} has ${bits} nodes, not ${hashes.length}`)
    }
    if (!hashes.every((h) => HEX64.test(h))) throw new RangeError('a compact range holds 64-digit hex hashes')
    const range = new CompactRange()
    range.#size = size
    range.#nodes = [...hashes]
    return range
  }

  get size(): number {
    return this.#size
  }

  /** Appends a leaf hash (already `leafHash`ed), 64 hex digits. */
  append(leafHex: string): void {
    let h = leafHex
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) h = nodeHashHex(this.#nodes.pop()!, h)
    this.#nodes.push(h)
    this.#size++
  }

  /** The Merkle tree hash of the leaves so far, hex. */
  root(): string {
    if (this.#nodes.length === 0) return EMPTY_ROOT.toString('hex')
    let h = this.#nodes.at(-1)!
    for (let i = this.#nodes.length - 2; i >= 0; i--) h = nodeHashHex(this.#nodes[i]!, h)
    return h
  }

  /** The subtree roots, hex, left to right (what `from` takes back). */
  hashes(): string[] {
    return [...this.#nodes]
  }
}
