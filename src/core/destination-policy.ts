import ipaddr from 'ipaddr.js'

/**
 * The destination guard's rules, pure (no DNS, no sockets): which hosts and addresses outbound HTTP
 * (`http.request`, `ai.*`, `notify.slack`) may reach. The network side (`actions/net/`) resolves a
 * name, asks `decideName` / `decideAddress`, and connects only to an address they allowed.
 *
 * Order of precedence: an `http.deny` entry refuses, whatever else matches; then an `http.allow`
 * entry admits (by host name, IP or CIDR, optionally with a port); then the built-in categories
 * refuse loopback, private, carrier-grade NAT, link-local, unique-local, cloud metadata,
 * unspecified, multicast, broadcast and reserved addresses — also when wrapped in an IPv4-mapped,
 * IPv4-compatible, NAT64, 6to4 or Teredo IPv6 address. Everything else (public unicast) is allowed.
 */

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'carrier-grade-nat'
  | 'link-local'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'

/** What an address is, in words a refusal message can use. */
export interface AddressClass {
  readonly category: AddressCategory
  /** e.g. `a private address (RFC 1918 10.0.0.0/8)`; for a wrapped address it names the IPv4 inside. */
  readonly label: string
}

/** One `http.allow` / `http.deny` entry, parsed. */
export type DestinationRule =
  | {
      readonly kind: 'host'
      readonly entry: string
      readonly name: string
      readonly wildcard: boolean
      readonly port?: number
    }
  | {
      readonly kind: 'cidr'
      readonly entry: string
      readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number]
      readonly port?: number
    }

export interface DestinationPolicy {
  readonly allow: readonly DestinationRule[]
  readonly deny: readonly DestinationRule[]
}

type Range = readonly [cidr: string, category: AddressCategory, what: string]

const V4_RANGES: readonly Range[] = [
  ['169.254.169.254/32', 'metadata', '169.254.169.254: AWS, GCP, Azure, OpenStack'],
  ['100.100.100.200/32', 'metadata', '100.100.100.200: Alibaba Cloud'],
  ['0.0.0.0/8', 'unspecified', '"this network" 0.0.0.0/8'],
  ['127.0.0.0/8', 'loopback', '127.0.0.0/8'],
  ['10.0.0.0/8', 'private', 'RFC 1918 10.0.0.0/8'],
  ['172.16.0.0/12', 'private', 'RFC 1918 172.16.0.0/12'],
  ['192.168.0.0/16', 'private', 'RFC 1918 192.168.0.0/16'],
  ['100.64.0.0/10', 'carrier-grade-nat', 'RFC 6598 100.64.0.0/10'],
  ['169.254.0.0/16', 'link-local', '169.254.0.0/16'],
  ['192.0.0.0/24', 'reserved', 'IETF protocol assignments 192.0.0.0/24'],
  ['192.0.2.0/24', 'reserved', 'documentation TEST-NET-1 192.0.2.0/24'],
  ['198.51.100.0/24', 'reserved', 'documentation TEST-NET-2 198.51.100.0/24'],
  ['203.0.113.0/24', 'reserved', 'documentation TEST-NET-3 203.0.113.0/24'],
  ['198.18.0.0/15', 'reserved', 'benchmarking 198.18.0.0/15'],
  ['192.88.99.0/24', 'reserved', 'deprecated 6to4 relay anycast 192.88.99.0/24'],
  ['255.255.255.255/32', 'broadcast', '255.255.255.255'],
  ['224.0.0.0/4', 'multicast', '224.0.0.0/4'],
  ['240.0.0.0/4', 'reserved', 'reserved for future use 240.0.0.0/4'],
]

const V6_RANGES: readonly Range[] = [
  ['fd00:ec2::254/128', 'metadata', 'fd00:ec2::254: AWS'],
  ['::/128', 'unspecified', '::'],
  ['::1/128', 'loopback', '::1'],
  ['64:ff9b:1::/48', 'private', 'local-use NAT64 64:ff9b:1::/48'],
  ['fc00::/7', 'unique-local', 'unique local fc00::/7'],
  ['fe80::/10', 'link-local', 'fe80::/10'],
  ['fec0::/10', 'private', 'deprecated site-local fec0::/10'],
  ['ff00::/8', 'multicast', 'ff00::/8'],
  ['100::/64', 'reserved', 'discard-only 100::/64'],
  ['2001:db8::/32', 'reserved', 'documentation 2001:db8::/32'],
  ['3fff::/20', 'reserved', 'documentation 3fff::/20'],
  ['2001:2::/48', 'reserved', 'benchmarking 2001:2::/48'],
]

const LABELS: Record<AddressCategory, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  'carrier-grade-nat': 'a carrier-grade NAT (shared) address',
  'link-local': 'a link-local address',
  'unique-local': 'a unique local (private) IPv6 address',
  metadata: 'a cloud metadata address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
}

const compiled = (ranges: readonly Range[]) =>
  ranges.map(([cidr, category, what]) => ({ range: ipaddr.parseCIDR(cidr), category, what }))
const V4 = compiled(V4_RANGES)
const V6 = compiled(V6_RANGES)
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3')

/** Names that never go to DNS (RFC 6761): they are the loopback interface. */
export function isLoopbackName(host: string): boolean {
  const name = normaliseName(host)
  return name === 'localhost' || name.endsWith('.localhost')
}

/** The loopback addresses a loopback name stands for (RFC 6761 §6.3). */
export const LOOPBACK_ADDRESSES: readonly string[] = ['127.0.0.1', '::1']

const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
])

/** Lower case, without the trailing dot of a fully qualified name, without IPv6 brackets. */
export function normaliseName(host: string): string {
  let name = host.trim().toLowerCase()
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1)
  while (name.endsWith('.') && name.length > 1) name = name.slice(0, -1)
  return name
}

/** One part of a WHATWG IPv4 host: decimal, `0x` hex or leading-zero octal. */
function ipv4Number(part: string): number | undefined {
  let text = part
  let radix = 10
  if (/^0x/i.test(text)) {
    radix = 16
    text = text.slice(2)
  } else if (text.length > 1 && text.startsWith('0')) {
    radix = 8
    text = text.slice(1)
  }
  if (text === '') return 0
  const digits = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/
  return digits.test(text) ? parseInt(text, radix) : undefined
}

/**
 * The IPv4 address a host string means under the WHATWG URL rules, which browsers and `new URL`
 * follow and `inet_aton` (so `getaddrinfo`) accepts too: `2130706433`, `0x7f000001`, `0177.0.0.1`,
 * `127.1` and `0x7f.1` are all 127.0.0.1. Returns `undefined` for a host that is not an IPv4
 * address, and `null` for one that ends in a number but is no valid address (`1.2.3.4.5`, `08.1`):
 * the URL parser rejects those, and so does the guard.
 */
export function parseIpv4Host(host: string): string | undefined | null {
  const parts = host.split('.')
  if (parts.length > 1 && parts.at(-1) === '') parts.pop()
  const last = parts.at(-1) ?? ''
  const endsInNumber = /^(0x[0-9a-f]*|[0-9]+)$/i.test(last)
  if (!endsInNumber) return undefined
  if (parts.length > 4) return null
  const numbers = parts.map(ipv4Number)
  if (numbers.some((n) => n === undefined)) return null
  const values = numbers as number[]
  if (values.slice(0, -1).some((n) => n > 255)) return null
  const lastValue = values.at(-1)!
  if (lastValue >= 256 ** (5 - values.length)) return null
  let address = lastValue
  values.slice(0, -1).forEach((n, i) => (address += n * 256 ** (3 - i)))
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.')
}

/** An IP literal (any IPv4 form, or IPv6 with or without brackets) in canonical text; else undefined. */
export function parseIpLiteral(host: string): string | undefined {
  const name = normaliseName(host)
  if (name.includes(':')) {
    if (!ipaddr.IPv6.isValid(name) || name.includes('%')) return undefined
    return ipaddr.IPv6.parse(name).toString()
  }
  return parseIpv4Host(name) ?? undefined
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, SIIT, NAT64, 6to4, Teredo), if any. */
export function embeddedIpv4(address: ipaddr.IPv6): { ipv4: ipaddr.IPv4; how: string } | undefined {
  const p = address.parts
  const low = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255])
  const zeros = (n: number) => p.slice(0, n).every((x) => x === 0)
  if (zeros(5) && p[5] === 0xffff) return { ipv4: low(p[6]!, p[7]!), how: 'an IPv4-mapped IPv6' }
  if (zeros(4) && p[4] === 0xffff && p[5] === 0)
    return { ipv4: low(p[6]!, p[7]!), how: 'an IPv4-translated IPv6' }
  if (zeros(6) && (p[6] !== 0 || p[7]! > 1))
    return { ipv4: low(p[6]!, p[7]!), how: 'an IPv4-compatible IPv6' }
  if (p[0] === 0x64 && p[1] === 0xff9b && p.slice(2, 6).every((x) => x === 0))
    return { ipv4: low(p[6]!, p[7]!), how: 'a NAT64 (64:ff9b::/96)' }
  if (p[0] === 0x2002) return { ipv4: low(p[1]!, p[2]!), how: 'a 6to4 (2002::/16)' }
  if (p[0] === 0x2001 && p[1] === 0)
    return { ipv4: low(p[6]! ^ 0xffff, p[7]! ^ 0xffff), how: 'a Teredo (2001::/32)' }
  return undefined
}

function classifyV4(address: ipaddr.IPv4): AddressClass {
  for (const { range, category, what } of V4) {
    if (address.match(range)) return { category, label: `${LABELS[category]} (${what})` }
  }
  return { category: 'public', label: LABELS.public }
}

/**
 * What `address` (canonical IPv4 or IPv6 text) is. Wrapped IPv4 is judged by the address inside
 * (`::ffff:127.0.0.1` is loopback); IPv6 outside 2000::/3 and the listed ranges is reserved.
 */
export function classifyAddress(address: string): AddressClass {
  const parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv4') return classifyV4(parsed as ipaddr.IPv4)
  const v6 = parsed as ipaddr.IPv6
  for (const { range, category, what } of V6) {
    if (v6.match(range)) return { category, label: `${LABELS[category]} (${what})` }
  }
  const inner = embeddedIpv4(v6)
  if (inner) {
    const cls = classifyV4(inner.ipv4)
    return cls.category === 'public'
      ? cls
      : { category: cls.category, label: `${inner.how} address of ${inner.ipv4.toString()}, ${cls.label}` }
  }
  if (!v6.match(GLOBAL_UNICAST))
    return { category: 'reserved', label: `${LABELS.reserved} (outside global unicast 2000::/3)` }
  return { category: 'public', label: LABELS.public }
}

/**
 * Parses one `http.allow` / `http.deny` entry: a host name (`api.example.com`), a wildcard
 * (`*.example.com`, its subdomains), an IP (any IPv4 form, IPv6 bracketed or not), or a CIDR
 * (`10.0.0.0/8`, `fd00::/8`); each optionally with `:port` (`127.0.0.1:11434`, `[::1]:8080`).
 * Throws an `Error` saying what is wrong with the entry.
 */
export function parseDestinationRule(entry: string): DestinationRule {
  const text = entry.trim()
  let hostPart = text
  let port: number | undefined
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  const withPort = /^(.*[^:]):(\d+)$/.exec(text)
  if (bracketed) {
    hostPart = bracketed[1]!
    if (bracketed[2] !== undefined) port = Number(bracketed[2])
  } else if (withPort && !withPort[1]!.includes(':')) {
    hostPart = withPort[1]!
    port = Number(withPort[2])
  }
  if (port !== undefined && (port < 1 || port > 65535))
    throw new Error(`${JSON.stringify(entry)}: port ${port} is not 1-65535`)
  const portPart = port === undefined ? {} : { port }
  if (hostPart.includes('/')) {
    if (!ipaddr.isValidCIDR(hostPart))
      throw new Error(`${JSON.stringify(entry)} is not a valid CIDR (write 10.0.0.0/8 or fd00::/8)`)
    const [addr, bits] = ipaddr.parseCIDR(hostPart)
    const range: [ipaddr.IPv4 | ipaddr.IPv6, number] =
      addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96
        ? [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96]
        : [addr, bits]
    return { kind: 'cidr', entry, range, ...portPart }
  }
  const ip = parseIpLiteral(hostPart)
  if (ip !== undefined) {
    const addr = canonical(ip)
    return { kind: 'cidr', entry, range: [ipaddr.parse(addr), addr.includes(':') ? 128 : 32], ...portPart }
  }
  if (parseIpv4Host(normaliseName(hostPart)) === null)
    throw new Error(`${JSON.stringify(entry)} looks like an IPv4 address but is not a valid one`)
  const wildcard = hostPart.startsWith('*.')
  const name = normaliseName(wildcard ? hostPart.slice(2) : hostPart)
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name))
    throw new Error(
      `${JSON.stringify(entry)} is not a host name, IP or CIDR (examples: api.example.com, *.lan, 10.0.0.0/8, 127.0.0.1:11434)`,
    )
  return { kind: 'host', entry, name, wildcard, ...portPart }
}

/** Compiles the `http.allow` / `http.deny` lists; an invalid entry throws, naming the list and index. */
export function compileDestinationPolicy(lists: {
  allow: readonly string[]
  deny: readonly string[]
}): DestinationPolicy {
  const compile = (entries: readonly string[], where: string) =>
    entries.map((entry, i) => {
      try {
        return parseDestinationRule(entry)
      } catch (err) {
        throw new Error(`${where}[${i}]: ${(err as Error).message}`, { cause: err })
      }
    })
  return Object.freeze({ allow: compile(lists.allow, 'http.allow'), deny: compile(lists.deny, 'http.deny') })
}

/** An IPv4-mapped IPv6 address as its IPv4; everything else unchanged (canonical text). */
function canonical(address: string): string {
  const parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    return (parsed as ipaddr.IPv6).toIPv4Address().toString()
  return parsed.toString()
}

function portMatches(rule: DestinationRule, port: number): boolean {
  return rule.port === undefined || rule.port === port
}

function nameMatches(rule: DestinationRule, name: string, port: number): boolean {
  if (rule.kind !== 'host' || !portMatches(rule, port)) return false
  return rule.wildcard ? name.endsWith(`.${rule.name}`) : name === rule.name
}

function addressMatches(rule: DestinationRule, address: string, port: number): boolean {
  if (rule.kind !== 'cidr' || !portMatches(rule, port)) return false
  const parsed = ipaddr.parse(canonical(address))
  const candidates: Array<ipaddr.IPv4 | ipaddr.IPv6> = [parsed]
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIpv4(parsed as ipaddr.IPv6)
    if (inner) candidates.push(inner.ipv4)
  }
  return candidates.some((c) => c.kind() === rule.range[0].kind() && c.match(rule.range))
}

/** The verdict on a host name before resolution. */
export type NameDecision =
  | { readonly verdict: 'deny'; readonly reason: string }
  | { readonly verdict: 'resolve'; readonly allowedBy?: string }

/**
 * First look at a URL's host (a name, not an IP literal): refused when it matches `http.deny` or
 * is a metadata name not explicitly allowed; otherwise resolve it, and remember whether an allow
 * entry named it (then its addresses are admitted even when private).
 */
export function decideName(policy: DestinationPolicy, host: string, port: number): NameDecision {
  const name = normaliseName(host)
  const denied = policy.deny.find((r) => nameMatches(r, name, port))
  if (denied)
    return { verdict: 'deny', reason: `${name} matches http.deny entry ${JSON.stringify(denied.entry)}` }
  const allowed = policy.allow.find((r) => nameMatches(r, name, port))
  if (allowed) return { verdict: 'resolve', allowedBy: allowed.entry }
  if (METADATA_NAMES.has(name)) return { verdict: 'deny', reason: `${name} is a cloud metadata service name` }
  return { verdict: 'resolve' }
}

/** The verdict on one address a destination resolved to (or was written as). */
export interface AddressDecision {
  readonly allowed: boolean
  readonly address: string
  readonly category: AddressCategory
  /** Why: the matching list entry or the address's category. */
  readonly reason: string
}

/**
 * Whether `address` may be connected to for a request to `port`; `allowedBy` is the allow entry
 * that named the host, if any (from `decideName`).
 */
export function decideAddress(
  policy: DestinationPolicy,
  address: string,
  port: number,
  allowedBy?: string,
): AddressDecision {
  const cls = classifyAddress(address)
  const base = { address, category: cls.category }
  const denied = policy.deny.find((r) => addressMatches(r, address, port))
  if (denied)
    return {
      ...base,
      allowed: false,
      reason: `${address} matches http.deny entry ${JSON.stringify(denied.entry)}`,
    }
  if (allowedBy !== undefined)
    return {
      ...base,
      allowed: true,
      reason: `the host is allowed by http.allow entry ${JSON.stringify(allowedBy)}`,
    }
  const allowed = policy.allow.find((r) => addressMatches(r, address, port))
  if (allowed)
    return {
      ...base,
      allowed: true,
      reason: `${address} is allowed by http.allow entry ${JSON.stringify(allowed.entry)}`,
    }
  if (cls.category === 'public') return { ...base, allowed: true, reason: `${address} is ${cls.label}` }
  return { ...base, allowed: false, reason: `${address} is ${cls.label}` }
}
