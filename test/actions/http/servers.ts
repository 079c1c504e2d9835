import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after } from 'node:test'
import type { ActionDefinition } from '../../../src/core/action.ts'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import { httpActions } from '../../../src/actions/http-actions.ts'
import type { HostLookup, ResolvedAddress } from '../../../src/actions/net/host-lookup.ts'

/** A request a test server received. */
export interface Hit {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

export interface TestServer {
  port: number
  host: string
  origin: string
  hits: Hit[]
  server: Server
}

/**
 * A real HTTP server on `host` (default 127.0.0.1) and a free port, closed when the test file
 * ends; `handler` answers, every request is recorded first.
 */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, hit: Hit) => void,
  host = '127.0.0.1',
): Promise<TestServer> {
  const hits: Hit[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const hit = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      hits.push(hit)
      handler(req, res, hit)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return { port, host, origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, hits, server }
}

/**
 * A resolver for tests: names map to the given addresses, other names do not exist (ENOTFOUND),
 * and every call is counted.
 */
export function mapLookup(
  names: Record<string, readonly ResolvedAddress[] | (() => readonly ResolvedAddress[])>,
): HostLookup & { calls: string[] } {
  const calls: string[] = []
  const lookup = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    calls.push(hostname)
    const entry = names[hostname]
    if (entry === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return typeof entry === 'function' ? entry() : entry
  }
  return Object.assign(lookup, { calls })
}

export const v4 = (address: string): ResolvedAddress => ({ address, family: 4 })
export const v6 = (address: string): ResolvedAddress => ({ address, family: 6 })

/** The `http.request` action wired to these http settings (everything else default). */
export function httpRequestAction(http: Partial<ActionServices['http']> = {}): ActionDefinition {
  const services: ActionServices = {
    ...DEFAULT_ACTION_SERVICES,
    http: { ...DEFAULT_ACTION_SERVICES.http, ...http },
  }
  return httpActions(services).find((a) => a.type === 'http.request')!
}
