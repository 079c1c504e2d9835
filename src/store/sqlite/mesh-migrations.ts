import type { Migration } from './migrations.ts'

/** Tables of the event mesh (version 2): the event log, rejected events, routing decisions. */
export const MESH_MIGRATIONS: readonly Migration[] = []
