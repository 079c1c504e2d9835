import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { AuditCheckpoint } from '../core/audit-port.ts'

/** The key that signs checkpoints. The private half never leaves this object. */
export interface AuditSigner {
  /** First 16 hex digits of SHA-256 of the public key (SPKI DER). */
  readonly keyId: string
  /** The public key, SPKI PEM: what an exported file carries. */
  readonly publicKey: string
  /** Ed25519 signature of `message` (UTF-8), base64. */
  sign(message: string): string
}

/** `keyId` of a public key given as PEM (or a private key, whose public half is used). */
export function keyIdOf(key: string | KeyObject): string {
  const pub = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key)
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16)
}

function signer(privateKey: KeyObject): AuditSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`audit key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'symmetric'}`)
  }
  const pub = createPublicKey(privateKey)
  return {
    keyId: keyIdOf(pub),
    publicKey: pub.export({ type: 'spki', format: 'pem' }) as string,
    sign: (message) => sign(null, Buffer.from(message), privateKey).toString('base64'),
  }
}

/**
 * Loads the Ed25519 key of the PEM (PKCS#8) file at `path`, generating it on first start: the file is
 * created with mode 0600 (and its directory if missing). Two processes starting at once end up with
 * the same key: creation is exclusive, the loser reads the winner's file.
 */
export function loadOrCreateAuditKey(path: string): AuditSigner & { created: boolean } {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    const { privateKey } = generateKeyPairSync('ed25519')
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    mkdirSync(dirname(path), { recursive: true })
    try {
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' })
      return { ...signer(privateKey), created: true }
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr
      pem = readFileSync(path, 'utf8')
    }
  }
  return { ...signer(createPrivateKey(pem)), created: false }
}

/** A signer for a key held in memory (tests, or a key kept in a secret manager). */
export function auditSignerFromPem(privateKeyPem: string): AuditSigner {
  return signer(createPrivateKey(privateKeyPem))
}

/**
 * The text a checkpoint's signature covers, in the shape of a C2SP `tlog-checkpoint` note body:
 * origin line, tree size, base64 root hash, then one extension line with the signing time.
 */
export function checkpointStatement(c: Pick<AuditCheckpoint, 'treeSize' | 'rootHash' | 'at'>): string {
  return `homeostat audit log\n${c.treeSize}\n${Buffer.from(c.rootHash, 'hex').toString('base64')}\ntime ${c.at}\n`
}

export function signCheckpoint(
  key: AuditSigner,
  head: Pick<AuditCheckpoint, 'treeSize' | 'rootHash' | 'at'>,
): AuditCheckpoint {
  const body = { treeSize: head.treeSize, rootHash: head.rootHash, at: head.at }
  return { ...body, keyId: key.keyId, signature: key.sign(checkpointStatement(body)) }
}

/** Whether `c` carries a valid signature by `publicKeyPem` (and names that key). Never throws. */
export function checkpointSignatureValid(c: AuditCheckpoint, publicKeyPem: string): boolean {
  try {
    const pub = createPublicKey(publicKeyPem)
    if (keyIdOf(pub) !== c.keyId || !/^[0-9a-f]{64}$/.test(c.rootHash)) return false
    return verify(null, Buffer.from(checkpointStatement(c)), pub, Buffer.from(c.signature, 'base64'))
  } catch {
    return false
  }
}
