import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../../src/api/server.ts'
import type { App } from '../../src/cli/app.ts'
import type { SecretReader } from '../../src/core/secrets-port.ts'
import { signGithub, signStandard } from '../../src/triggers/webhook-signature.ts'
import { WebhookTrigger } from '../../src/triggers/webhook-trigger.ts'
import { openProject } from '../helpers/mesh-project.ts'
import { tempDir } from '../helpers/tmp.ts'

/** A deterministic Standard Webhooks secret (32 bytes) and its key bytes. */
export function whsec(seed: string): { secret: string; key: Uint8Array } {
  const key = createHash('sha256').update(seed).digest()
  return { secret: `whsec_${key.toString('base64')}`, key: new Uint8Array(key) }
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Standard Webhooks headers for `body`, signed with each of `keys` (one signature per key). */
export function standardHeaders(
  id: string,
  timestamp: number | string,
  body: Uint8Array | string,
  keys: readonly Uint8Array[],
): Record<string, string> {
  const raw = typeof body === 'string' ? bytes(body) : body
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': keys.map((k) => signStandard(id, timestamp, raw, k)).join(' '),
  }
}

/** GitHub headers for `body` signed with `secret`. */
export function githubHeaders(
  delivery: string,
  body: Uint8Array | string,
  secret: string,
): Record<string, string> {
  const raw = typeof body === 'string' ? bytes(body) : body
  return {
    'x-github-delivery': delivery,
    'x-github-event': 'push',
    'x-hub-signature-256': signGithub(raw, bytes(secret)),
  }
}

/** A homeostat project in a temp dir holding the given workflow files and a homeostat.yaml. */
export function hookProject(
  workflows: Record<string, string>,
  extraConfig = '',
): { dir: string; config: string } {
  const dir = tempDir('homeostat-hooks-')
  mkdirSync(join(dir, 'workflows'))
  for (const [name, text] of Object.entries(workflows)) writeFileSync(join(dir, 'workflows', name), text)
  const config = join(dir, 'homeostat.yaml')
  writeFileSync(
    config,
    `store: data/store.db\nworkflows: [workflows]\nworker: { poll: 50ms, grace: 1s }\n${extraConfig}`,
  )
  return { dir, config }
}

export interface HookServer {
  url: string
  app: App
  trigger: WebhookTrigger
  /** Runs stored so far, all workflows or one. */
  runCount(workflowId?: string): Promise<number>
  close(): Promise<void>
}

/**
 * The webhook path wired as `serve` wires it (registry, mesh ingest, store, Fastify listening on
 * 127.0.0.1) but with the trigger's clock fixed, so timestamp-window cases are exact. No engine runs:
 * the runs a request starts stay queued, where the corpus counts them.
 */
export async function hookServer(
  project: { dir: string; config: string },
  options: {
    now?: () => number
    secrets?: Record<string, string>
    bodyBytes?: number
  } = {},
): Promise<HookServer> {
  const app = await openProject(project.config, project.dir)
  const registry = await app.registry()
  const ingest = await app.ingest()
  const secrets: SecretReader = {
    get: (name) => options.secrets?.[name],
    names: () => Object.keys(options.secrets ?? {}).sort(),
  }
  const trigger = new WebhookTrigger({
    workflows: () => registry.inLoadOrder(),
    ingest,
    secrets,
    now: options.now,
    limits: { depth: app.config.ingest.maxDepth, keys: app.config.ingest.maxKeys },
  })
  const http = await buildApp({
    store: app.store,
    mesh: app.mesh,
    registry,
    runs: app.runs,
    ingest,
    limits: { bodyBytes: options.bodyBytes ?? app.config.ingest.maxBody },
    stats: async () => ({}),
    hooks: (request) => trigger.handle(request),
  })
  const url = await http.listen({ host: '127.0.0.1', port: 0 })
  return {
    url,
    app,
    trigger,
    runCount: async (workflowId) => (await app.store.listRuns({ workflowId, limit: 10_000 })).length,
    close: async () => {
      trigger.close()
      await http.close()
      await registry.close()
    },
  }
}

export interface HookResponse {
  status: number
  json: Record<string, unknown>
  headers: Headers
}

/** POSTs to `/hooks/<path>` with fetch over a real socket. */
export async function send(
  url: string,
  path: string,
  request: { body?: Uint8Array | string; headers?: Record<string, string> } = {},
): Promise<HookResponse> {
  const res = await fetch(`${url}/hooks/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: request.body,
  })
  const text = await res.text()
  let json: Record<string, unknown>
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
  } catch {
    json = { text }
  }
  return { status: res.status, json, headers: res.headers }
}
