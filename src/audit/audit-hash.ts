import { hash } from 'node:crypto'
import type { AuditEntry, AuditEntryInput, AuditRecord } from '../core/audit-port.ts'
import { canonicalJson } from '../core/canonical-json.ts'

/** `prevHash` of entry 1. */
export const GENESIS_HASH = '0'.repeat(64)

/** What an entry's hash covers. */
type Hashed = Omit<AuditEntry, 'hash' | 'data'>

const str = JSON.stringify

/**
 * The canonical JSON of `{seq, type, at, actor, workflowId, runId, eventId, component, data, prevHash}`
 * with `dataJson` as the (already canonical) `data`: exactly `canonicalJson` of that object, built
 * without sorting keys each time (a test keeps the two equal). Members that are undefined are omitted.
 */
export function entryPreimage(e: Hashed, dataJson: string | undefined): string {
  let text = '{'
  if (e.actor !== undefined) text += `"actor":${str(e.actor)},`
  text += `"at":${str(e.at)},`
  if (e.component !== undefined) text += `"component":${str(e.component)},`
  if (dataJson !== undefined) text += `"data":${dataJson},`
  if (e.eventId !== undefined) text += `"eventId":${str(e.eventId)},`
  text += `"prevHash":${str(e.prevHash)},`
  if (e.runId !== undefined) text += `"runId":${str(e.runId)},`
  text += `"seq":${str(e.seq)},"type":${str(e.type)}`
  if (e.workflowId !== undefined) text += `,"workflowId":${str(e.workflowId)}`
  return `${text}}`
}

/**
 * An entry's hash: SHA-256 (hex) of 0x00 followed by its canonical JSON (UTF-8), which is the RFC 9162
 * Merkle leaf hash of that JSON. (U+0000 is the single byte 0x00 in UTF-8.)
 */
function leafOf(preimage: string): string {
  return hash('sha256', `\u0000${preimage}`, 'hex')
}

/** The hash a stored (parsed) entry should have; only the hashed members are read. */
export function hashEntry(e: Omit<AuditEntry, 'hash'>): string {
  return leafOf(entryPreimage(e, e.data === undefined ? undefined : canonicalJson(e.data)))
}

/** The hash of a record as written (its `data` already canonical text). */
export function hashRecord(r: Omit<AuditRecord, 'hash'>): string {
  return leafOf(entryPreimage(r, r.dataJson))
}

/** `undefined` for absent or null; a string with any lone surrogate replaced (SQLite stores UTF-8). */
function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string')
    throw new TypeError(`audit entry ${field} must be a string, not ${typeof value}`)
  return value.toWellFormed()
}

/**
 * Normalises what a component handed in (only the known members; strings well-formed; `data` taken
 * as canonical JSON text now, so later changes to the caller's object cannot change what is hashed)
 * and chains it at `seq` after `prevHash`. Throws `TypeError` on an entry no store could keep.
 */
export function sealEntry(input: AuditEntryInput, seq: number, prevHash: string): AuditRecord {
  const type = text(input.type, 'type')
  if (!type) throw new TypeError('audit entry type must be a non-empty string')
  if (typeof input.at !== 'number' || !Number.isFinite(input.at)) {
    throw new TypeError(`audit entry at must be epoch milliseconds, not ${String(input.at)}`)
  }
  const record: Omit<AuditRecord, 'hash'> = { seq, type, at: input.at, prevHash }
  const actor = text(input.actor, 'actor')
  const workflowId = text(input.workflowId, 'workflowId')
  const runId = text(input.runId, 'runId')
  const eventId = text(input.eventId, 'eventId')
  const component = text(input.component, 'component')
  if (actor !== undefined) record.actor = actor
  if (workflowId !== undefined) record.workflowId = workflowId
  if (runId !== undefined) record.runId = runId
  if (eventId !== undefined) record.eventId = eventId
  if (component !== undefined) record.component = component
  if (input.data !== undefined) record.dataJson = canonicalJson(input.data)
  return { ...record, hash: hashRecord(record) }
}

/** Chains an already sealed record at another place (after another writer's entries). */
export function rechainRecord(r: AuditRecord, seq: number, prevHash: string): AuditRecord {
  const moved = { ...r, seq, prevHash }
  return { ...moved, hash: hashRecord(moved) }
}
