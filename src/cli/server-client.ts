import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HsError, type ErrorCode } from '../core/errors.ts'

/** Where a running server says where it listens (`<data dir>/server.json`). */
export function serverFile(dataDir: string): string {
  return join(dataDir, 'server.json')
}

export interface ServerInfo {
  pid: number
  host: string
  port: number
  startedAt: number
}

export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  writeFileSync(serverFile(dataDir), `${JSON.stringify(info)}\n`)
}

export function removeServerInfo(dataDir: string, pid: number): void {
  const file = serverFile(dataDir)
  try {
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as ServerInfo).pid === pid) rmSync(file)
  } catch {
    // a half-written or foreign file: leave it
  }
}

/** The base URL of a live server on this store, or undefined (no file, or its process is gone). */
export function runningServer(dataDir: string): string | undefined {
  const file = serverFile(dataDir)
  if (!existsSync(file)) return undefined
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo
    process.kill(info.pid, 0)
    const host = info.host === '0.0.0.0' || info.host === '::' ? '127.0.0.1' : info.host
    return `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`
  } catch {
    return undefined
  }
}

/** Calls the running server's API; a problem response becomes an HsError with its code. */
export async function callServer<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      'x-homeostat-actor': 'cli',
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  const parsed = text ? (JSON.parse(text) as unknown) : undefined
  if (
    response.status >= 400 &&
    response.status !== 422 &&
    (response.headers.get('content-type') ?? '').includes('problem+json')
  ) {
    const p = parsed as { code: string; detail: string; errors?: unknown }
    throw new HsError(p.code as ErrorCode, p.detail, { details: p.errors })
  }
  return { status: response.status, body: parsed as T }
}
