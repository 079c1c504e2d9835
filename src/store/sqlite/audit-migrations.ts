import type { Migration } from './migrations.ts'

/** Tables of the audit log (version 3). */
export const AUDIT_MIGRATIONS: readonly Migration[] = []
