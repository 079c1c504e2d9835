import { createHash } from 'node:crypto'
import type { AuditEntry, AuditEntryInput } from '../core/audit-port.ts'
import { canonicalJson } from '../core/canonical-json.ts'
import { leafHash } from './merkle.ts'

/** `prevHash` of entry 1. */
export const GENESIS_HASH = '0'.repeat(64)

/** An entry without its own hash: what the hash covers. */
export type UnsealedEntry = Omit<AuditEntry, 'hash'>

/**
 * The hash of an entry: SHA-256 (hex) of the canonical JSON (sorted keys, no whitespace, absent
 * members omitted) of `{seq, type, at, actor, workflowId, runId, eventId, component, data, prevHash}`.
 * Any other member of the object is ignored, so a stored entry hashes the same as the one written.
 */
export function hashEntry(e: UnsealedEntry): string {
  const text = canonicalJson({
    seq: e.seq,
    type: e.type,
    at: e.at,
    actor: e.actor,
    workflowId: e.workflowId,
    runId: e.runId,
    eventId: e.eventId,
    component: e.component,
    data: e.data,
    prevHash: e.prevHash,
  })
  return createHash('sha256').update(text).digest('hex')
}

/** The Merkle leaf of an entry: its hash's 32 bytes, leaf-hashed (RFC 9162). */
export function entryLeaf(hash: string): Buffer {
  return leafHash(Buffer.from(hash, 'hex'))
}

/** `undefined` for absent or null; a string with any lone surrogate replaced (SQLite stores UTF-8). */
function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string')
    throw new TypeError(`audit entry ${field} must be a string, not ${typeof value}`)
  return value.toWellFormed()
}

/**
 * Normalises what a component handed in (only the known members, strings well-formed) and chains it:
 * the entry's `seq`, `prevHash` and `hash`. Throws `TypeError` on an entry no store could keep.
 */
export function sealEntry(input: AuditEntryInput, seq: number, prevHash: string): AuditEntry {
  const type = text(input.type, 'type')
  if (!type) throw new TypeError('audit entry type must be a non-empty string')
  if (typeof input.at !== 'number' || !Number.isFinite(input.at)) {
    throw new TypeError(`audit entry at must be epoch milliseconds, not ${String(input.at)}`)
  }
  const entry: UnsealedEntry = { seq, type, at: input.at, prevHash }
  const actor = text(input.actor, 'actor')
  const workflowId = text(input.workflowId, 'workflowId')
  const runId = text(input.runId, 'runId')
  const eventId = text(input.eventId, 'eventId')
  const component = text(input.component, 'component')
  if (actor !== undefined) entry.actor = actor
  if (workflowId !== undefined) entry.workflowId = workflowId
  if (runId !== undefined) entry.runId = runId
  if (eventId !== undefined) entry.eventId = eventId
  if (component !== undefined) entry.component = component
  // a snapshot, normalised as JSON (NaN → null, undefined members dropped): what is hashed is exactly
  // what is stored and read back, even if the caller mutates its object afterwards
  if (input.data !== undefined) entry.data = JSON.parse(canonicalJson(input.data))
  return { ...entry, hash: hashEntry(entry) }
}
