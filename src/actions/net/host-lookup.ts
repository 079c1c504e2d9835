import { lookup } from 'node:dns/promises'

/** One address a host name resolved to. */
export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

/**
 * Resolves a host name (never an IP literal, never a `localhost` name) to every address it has.
 * The system resolver by default; tests inject their own to map names onto chosen addresses.
 * Rejects when the name does not resolve.
 */
export type HostLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>

/** `getaddrinfo` through `dns.lookup`, all addresses, in the resolver's order. */
export const systemLookup: HostLookup = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }))
