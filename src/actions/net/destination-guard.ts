import { isIP } from 'node:net'
import {
  compileDestinationPolicy,
  decideAddress,
  decideName,
  isLoopbackName,
  LOOPBACK_ADDRESSES,
  normaliseName,
  parseIpLiteral,
  type AddressDecision,
  type DestinationPolicy,
} from '../../core/destination-policy.ts'
import { CodedError, CodedNonRetryableError, DestinationDeniedError } from './errors.ts'
import { systemLookup, type HostLookup, type ResolvedAddress } from './host-lookup.ts'

/** The guard's verdict on one URL, after resolving its host. */
export interface DestinationCheck {
  readonly allowed: boolean
  /** The URL as parsed (`new URL(...).href`: IP forms normalised, e.g. `http://127.0.0.1/`). */
  readonly url: string
  /** Host name or IP literal, without IPv6 brackets. */
  readonly host: string
  readonly port: number
  /** The verdict on every address the host stands for (empty when refused before resolving). */
  readonly addresses: readonly AddressDecision[]
  /** The address to connect to: the first allowed one. */
  readonly connectTo?: ResolvedAddress
  /** One line: why it is allowed or refused. */
  readonly reason: string
}

export interface DestinationGuardOptions {
  /** `http.allow`: hosts, IPs or CIDRs admitted although private or loopback. */
  readonly allow: readonly string[]
  /** `http.deny`: hosts, IPs or CIDRs always refused. */
  readonly deny: readonly string[]
  /** Name resolution; the system resolver by default. */
  readonly lookup?: HostLookup
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 }

/**
 * Decides whether a URL may be requested: only http and https, no credentials in the URL, and
 * every host resolved first so the decision is about addresses, not names (a name resolving to a
 * private address is refused like the address itself). The caller connects to `connectTo`, the
 * address that was checked, so a second DNS answer cannot change where the request goes.
 */
export class DestinationGuard {
  readonly policy: DestinationPolicy
  readonly #lookup: HostLookup

  /** Throws when an allow or deny entry is not a host, IP or CIDR (naming the entry). */
  constructor(options: DestinationGuardOptions) {
    this.policy = compileDestinationPolicy({ allow: options.allow, deny: options.deny })
    this.#lookup = options.lookup ?? systemLookup
  }

  /**
   * The verdict on `url`. Refusals are results (`allowed: false`); a host that does not resolve
   * throws (`HS_ERR_HTTP_DESTINATION_DENIED` when it does not exist, a retryable error otherwise).
   */
  async check(url: string, what?: string): Promise<DestinationCheck> {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return refused(url, '', 0, 'it is not a valid absolute URL')
    }
    const href = parsed.href
    if (!(parsed.protocol in DEFAULT_PORTS))
      return refused(href, '', 0, `scheme ${parsed.protocol} is not allowed (only http: and https:)`)
    if (parsed.username !== '' || parsed.password !== '')
      return refused(
        href,
        '',
        0,
        'credentials in the URL are not sent (pass them in an Authorization header, from a secret)',
      )
    const host = normaliseName(parsed.hostname)
    const port = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol]! : Number(parsed.port)
    const literal = parseIpLiteral(host)
    if (literal !== undefined) {
      const decision = decideAddress(this.policy, literal, port)
      return decided(
        href,
        host,
        port,
        [decision],
        [{ address: literal, family: isIP(literal) === 6 ? 6 : 4 }],
      )
    }
    const byName = decideName(this.policy, host, port)
    if (byName.verdict === 'deny') return refused(href, host, port, byName.reason)
    const resolved = isLoopbackName(host)
      ? LOOPBACK_ADDRESSES.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }) as const)
      : await this.#resolve(host, what ?? href)
    const decisions = resolved.map((a) => decideAddress(this.policy, a.address, port, byName.allowedBy))
    return decided(
      href,
      host,
      port,
      decisions,
      resolved,
      isLoopbackName(host) ? 'is a loopback name' : undefined,
    )
  }

  /** Like `check`, but throws `DestinationDeniedError` ("refused <what>: <why>") when refused. */
  async require(url: string, what?: string): Promise<DestinationCheck & { connectTo: ResolvedAddress }> {
    const result = await this.check(url, what)
    if (!result.allowed || !result.connectTo) throw new DestinationDeniedError(refusal(result, what))
    return result as DestinationCheck & { connectTo: ResolvedAddress }
  }

  async #resolve(host: string, what: string): Promise<readonly ResolvedAddress[]> {
    let addresses: readonly ResolvedAddress[]
    try {
      addresses = await this.#lookup(host)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        throw new CodedNonRetryableError(
          'HS_ERR_HTTP_DESTINATION_DENIED',
          `${what}: cannot resolve host ${host}: ${String(code)} (check the name)`,
          { cause: err },
        )
      throw new CodedError(
        'HS_ERR_HTTP_DESTINATION_DENIED',
        `${what}: cannot resolve host ${host}: ${typeof code === 'string' ? code : (err as Error).message}`,
        { cause: err },
      )
    }
    if (addresses.length === 0)
      throw new CodedNonRetryableError(
        'HS_ERR_HTTP_DESTINATION_DENIED',
        `${what}: host ${host} resolves to no address`,
      )
    return addresses
  }
}

function refused(url: string, host: string, port: number, reason: string): DestinationCheck {
  return { allowed: false, url, host, port, addresses: [], reason }
}

function decided(
  url: string,
  host: string,
  port: number,
  decisions: readonly AddressDecision[],
  resolved: readonly ResolvedAddress[],
  nameNote?: string,
): DestinationCheck {
  const index = decisions.findIndex((d) => d.allowed)
  const isLiteral = decisions.length === 1 && decisions[0]!.address === host
  const list = resolved.map((r) => r.address).join(', ')
  const via = isLiteral ? '' : nameNote ? `${host} ${nameNote} (${list}): ` : `${host} resolves to ${list}: `
  if (index < 0) {
    const reasons = [...new Set(decisions.map((d) => d.reason))]
    return { allowed: false, url, host, port, addresses: decisions, reason: `${via}${reasons.join('; ')}` }
  }
  return {
    allowed: true,
    url,
    host,
    port,
    addresses: decisions,
    connectTo: resolved[index]!,
    reason: `${via}${decisions[index]!.reason}`,
  }
}

/** "refused GET http://10.0.0.1/: 10.0.0.1 is a private address (...); add ... to http.allow ...". */
function refusal(result: DestinationCheck, what?: string): string {
  const target = what ?? result.url
  const builtIn =
    result.addresses.length > 0 &&
    result.addresses.every((d) => !/http\.deny/.test(d.reason) && d.category !== 'metadata')
  const hint = builtIn
    ? `; if this destination is intended, add ${JSON.stringify(result.host)} (or its address or CIDR) to http.allow in homeostat.yaml`
    : ''
  return `refused ${target}: ${result.reason}${hint}`
}
