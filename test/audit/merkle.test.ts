import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import {
  CompactRange,
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/merkle.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (h: string): Buffer => Buffer.from(h, 'hex')

/** The leaves of the Certificate Transparency reference tree (RFC 6962 test data, used by transparency-dev/merkle). */
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => leafHash(unhex(h)))

/** Its root for each size 0..8. */
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]

/** Inclusion proofs of the reference tree: 0-based leaf index, tree size, audit path. */
const CT_INCLUSION: Array<[number, number, string[]]> = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
]

/** Consistency proofs of the reference tree: first size, second size, proof. */
const CT_CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
]

/** MTH of RFC 9162 §2.1.1, written out again as plainly as possible: the reference for the properties. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest()
  if (leaves.length === 1) return leaves[0]!
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  const l = referenceRoot(leaves.slice(0, k))
  const r = referenceRoot(leaves.slice(k))
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from([1]), l, r]))
    .digest()
}

/** Distinct leaves of varied lengths (an index prefix keeps equal leaves from making a wrong index verify). */
const randomLeaves = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.concat([Buffer.from(`${i}:`), randomBytes(i % 9)])))

test('the empty tree hash is SHA-256 of the empty string', () => {
  assert.equal(hex(EMPTY_ROOT), CT_ROOTS[0])
  assert.equal(hex(merkleRoot([])), CT_ROOTS[0])
  assert.equal(new CompactRange().root(), CT_ROOTS[0])
})

test('leaf and node hashes are domain-separated: 0x00 for leaves, 0x01 for nodes', () => {
  assert.equal(
    hex(leafHash(Buffer.alloc(0))),
    createHash('sha256')
      .update(Buffer.from([0]))
      .digest('hex'),
  )
  const [a, b] = [CT_LEAVES[0]!, CT_LEAVES[1]!]
  assert.equal(
    hex(nodeHash(a, b)),
    createHash('sha256')
      .update(Buffer.concat([Buffer.from([1]), a, b]))
      .digest('hex'),
  )
})

test('the split point is the largest power of two strictly below n', () => {
  assert.deepEqual([2, 3, 4, 5, 7, 8, 9, 16, 17, 1000].map(splitPoint), [1, 2, 2, 4, 4, 4, 8, 8, 16, 512])
})

test('the RFC 6962 reference tree gives the published root at every size 0..8', () => {
  for (let n = 0; n <= 8; n++) {
    assert.equal(hex(merkleRoot(CT_LEAVES.slice(0, n))), CT_ROOTS[n], `merkleRoot size ${n}`)
    const range = new CompactRange()
    for (const leaf of CT_LEAVES.slice(0, n)) range.append(hex(leaf))
    assert.equal(range.root(), CT_ROOTS[n], `CompactRange size ${n}`)
  }
})

test('small trees computed by hand with the formula', () => {
  const [d0, d1, d2, d3, d4] = CT_LEAVES as [Buffer, Buffer, Buffer, Buffer, Buffer]
  // n = 3: k = 2 → node(node(d0, d1), d2)
  assert.equal(hex(merkleRoot([d0, d1, d2])), hex(nodeHash(nodeHash(d0, d1), d2)))
  // n = 5: k = 4 → node(node(node(d0, d1), node(d2, d3)), d4)
  assert.equal(
    hex(merkleRoot([d0, d1, d2, d3, d4])),
    hex(nodeHash(nodeHash(nodeHash(d0, d1), nodeHash(d2, d3)), d4)),
  )
  // the audit path of d2 in the 5-leaf tree: d3, node(d0, d1), d4
  assert.deepEqual(inclusionProof([d0, d1, d2, d3, d4], 2).map(hex), [
    hex(d3),
    hex(nodeHash(d0, d1)),
    hex(d4),
  ])
})

test('inclusion proofs of the reference tree match the published paths and verify', () => {
  for (const [index, size, path] of CT_INCLUSION) {
    const leaves = CT_LEAVES.slice(0, size)
    const proof = inclusionProof(leaves, index)
    assert.deepEqual(proof.map(hex), path, `leaf ${index} of ${size}`)
    const root = unhex(CT_ROOTS[size]!)
    assert.equal(verifyInclusion(index, size, leaves[index]!, proof, root), true)
    assert.equal(verifyInclusion(index, size, leaves[index]!, proof, unhex(CT_ROOTS[0]!)), false)
    assert.equal(verifyInclusion(index, size, leaves[index]!, proof.slice(1), root), false)
    assert.equal(verifyInclusion(index, size, leaves[index]!, [...proof, proof[0]!], root), false)
    assert.equal(verifyInclusion(size, size, leaves[index]!, proof, root), false)
  }
})

test('consistency proofs of the reference tree match the published proofs and verify', () => {
  for (const [first, second, expected] of CT_CONSISTENCY) {
    const proof = consistencyProof(CT_LEAVES.slice(0, second), first)
    assert.deepEqual(proof.map(hex), expected, `${first} → ${second}`)
    const [r1, r2] = [unhex(CT_ROOTS[first]!), unhex(CT_ROOTS[second]!)]
    assert.equal(verifyConsistency(first, second, proof, r1, r2), true)
    if (first !== second) {
      assert.equal(verifyConsistency(first, second, proof, r2, r2), false, 'wrong first root')
      assert.equal(verifyConsistency(first, second, proof, r1, r1), false, 'wrong second root')
      assert.equal(verifyConsistency(first, second, [], r1, r2), false, 'empty proof')
      assert.equal(verifyConsistency(first, second, proof.slice(1), r1, r2), false, 'short proof')
      assert.equal(
        verifyConsistency(first, second, [CT_LEAVES[0]!, ...proof], r1, r2),
        false,
        'preceding garbage',
      )
      const flipped = proof.map((p, i) =>
        i === 0 ? Buffer.from(p.map((byte, j) => (j === 0 ? byte ^ 16 : byte))) : p,
      )
      assert.equal(verifyConsistency(first, second, flipped, r1, r2), false, 'modified proof bit')
    }
    assert.equal(verifyConsistency(second, first, proof, r2, r1), first === second, 'sizes swapped')
  }
})

test('property: the root of n leaves equals the recursive definition, three ways (n = 0..130)', () => {
  for (let n = 0; n <= 130; n++) {
    const leaves = randomLeaves(n)
    const expected = hex(referenceRoot(leaves))
    assert.equal(hex(merkleRoot(leaves)), expected, `merkleRoot n=${n}`)
    const range = new CompactRange()
    for (const leaf of leaves) range.append(hex(leaf))
    assert.equal(range.root(), expected, `CompactRange n=${n}`)
    const resumed = CompactRange.from(range.size, range.hashes())
    assert.equal(resumed.root(), expected, `resumed n=${n}`)
  }
})

test('property: every leaf of trees of 1..40 leaves has a verifying inclusion proof; a wrong leaf or index fails', () => {
  for (let n = 1; n <= 40; n++) {
    const leaves = randomLeaves(n)
    const root = merkleRoot(leaves)
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(leaves, i)
      assert.equal(verifyInclusion(i, n, leaves[i]!, proof, root), true, `leaf ${i} of ${n}`)
      assert.equal(verifyInclusion(i, n, leafHash(Buffer.from('forged')), proof, root), false)
      if (n > 1) assert.equal(verifyInclusion((i + 1) % n, n, leaves[i]!, proof, root), false)
    }
  }
})

test('property: every prefix of trees of 1..24 leaves is provably consistent; a changed leaf is not', () => {
  for (let n = 1; n <= 24; n++) {
    const leaves = randomLeaves(n)
    const roots = Array.from({ length: n + 1 }, (_, m) => merkleRoot(leaves.slice(0, m)))
    for (let m = 0; m <= n; m++) {
      const proof = consistencyProof(leaves, m)
      assert.equal(verifyConsistency(m, n, proof, roots[m]!, roots[n]!), true, `${m} → ${n}`)
      if (m > 0 && m < n) {
        const changed = [...leaves]
        changed[m - 1] = leafHash(Buffer.from('rewritten'))
        const rewrittenRoot = merkleRoot(changed)
        assert.equal(verifyConsistency(m, n, consistencyProof(changed, m), roots[m]!, rewrittenRoot), false)
      }
    }
  }
})

test('a compact range refuses a saved state whose node count does not fit its size', () => {
  assert.throws(() => CompactRange.from(3, ['00'.repeat(32)]), RangeError)
  assert.throws(() => CompactRange.from(1, ['not hex']), RangeError)
  assert.equal(CompactRange.from(0, []).root(), CT_ROOTS[0])
})
