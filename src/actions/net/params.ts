import type { ActionServices } from '../action-services.ts'
import { GuardedHttpClient } from './guarded-client.ts'

export { DURATION_SCHEMA, durationMs } from '../duration-param.ts'

/** The guarded client of a family, built from `services.http` (its allow/deny lists and resolver). */
export function guardedClient(services: ActionServices): GuardedHttpClient {
  return new GuardedHttpClient({
    allow: services.http.allow,
    deny: services.http.deny,
    ...(services.http.lookup ? { lookup: services.http.lookup } : {}),
  })
}
