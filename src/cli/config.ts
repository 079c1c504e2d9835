import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { parseDestinationRule } from '../core/destination-policy.ts'
import { parseDuration } from '../core/duration.ts'
import { HsError } from '../core/errors.ts'

/**
 * Configuration, resolved once at start-up from (lowest to highest precedence) built-in defaults,
 * `homeostat.yaml`, `HOMEOSTAT_*` environment variables and command-line flags, then frozen and
 * passed down. Nothing below the CLI reads `process.env`.
 */

/** What a user may write in homeostat.yaml (every key optional, human units). */
export interface UserConfig {
  /** SQLite file of the embedded store. Default `.homeostat/homeostat.db` beside the config file. */
  store?: string
  /** Directories (or files) of workflow YAML. Default `workflows`. */
  workflows?: string[]
  /** `process` (default: survives kill -9) or `host` (survives power loss, slower commits). */
  durability?: 'process' | 'host'
  worker?: {
    /** Most runs one worker holds at once. Default 1000. */
    max_runs?: number
    /** Lease on a claimed run. Default `30s`. */
    lease?: string | number
    /** Queue poll interval for work from other processes. Default `250ms`. */
    poll?: string | number
    /** How long a stopping worker lets running steps finish. Default `10s`. */
    grace?: string | number
  }
  log_level?: 'debug' | 'info' | 'warn' | 'error'
  /** Plugin modules (paths relative to this file, or package names) whose actions join the catalogue. */
  plugins?: string[]
  /** Directories (or files) of event schemas. Default `schemas`. */
  schemas?: string[]
  /** Named targets of `handler.call`: `{ module: path }` or `{ url, timeout?, retries?, headers? }`. */
  handlers?: Record<string, HandlerConfig>
  server?: { host?: string; port?: number }
  ingest?: {
    /** Events of types without a schema: `accept` (default) or `reject`. */
    unknown_types?: 'accept' | 'reject'
    /** Largest request body. Default 1 MiB (bytes, or `512kb`, `1mb`). */
    max_body?: string | number
    max_depth?: number
    max_keys?: number
  }
  /** IANA time zone schedules use when a trigger names none. Default `UTC`. */
  timezone?: string
  /** File, shell and git actions stay inside these directories. Default: the config file's directory. */
  files?: {
    roots?: string[]
    /** Largest file a file action reads or writes. Default `10mb`. */
    max_bytes?: string | number
  }
  shell?: {
    /** Environment variables passed to commands (the rest are dropped). Default PATH, HOME, LANG, LC_ALL, TZ. */
    env?: string[]
    /** Default command timeout. Default `60s`. */
    timeout?: string | number
    /** Most bytes kept of stdout and of stderr each. Default `1mb`. */
    max_output?: string | number
  }
  /** Outbound HTTP (http.request, notify.slack, ai.*): the destination guard and limits. */
  http?: {
    /** Hosts, IPs or CIDRs allowed although private/loopback (`127.0.0.1`, `10.0.0.0/8`, `ollama.lan`). */
    allow?: string[]
    /** Hosts, IPs or CIDRs always refused, on top of the private ranges. */
    deny?: string[]
    timeout?: string | number
    /** Largest response body kept. Default `10mb`. */
    max_response?: string | number
  }
  /** LLM providers of `ai.generate` / `ai.analyze`, by name; `default` names the one steps get. */
  ai?: {
    default?: string
    providers?: Record<string, AiProviderConfig>
  }
  notify?: {
    slack?: { webhook_url?: string; webhook_url_secret?: string }
    email?: EmailConfig
  }
  secrets?: {
    /** File holding the 32-byte key secrets are encrypted with. Default `<data dir>/secrets.key` (made on first use). */
    key_file?: string
  }
}

/** An LLM endpoint: OpenAI-compatible chat completions (OpenAI, Ollama, vLLM, llama.cpp) or Anthropic messages. */
export interface AiProviderConfig {
  kind: 'openai' | 'anthropic'
  /** Base URL: `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`, `https://api.anthropic.com`. */
  url: string
  model: string
  /** Name of the secret (`homeostat secrets set`) holding the API key. */
  api_key_secret?: string
  timeout?: string | number
  /** Prices in USD per million tokens, for the cost recorded per run. */
  price?: { input?: number; output?: number }
}

export interface EmailConfig {
  host?: string
  port?: number
  /** TLS from the first byte (port 465); otherwise STARTTLS as `starttls` says. */
  secure?: boolean
  /** Without `secure`: `auto` (default) upgrades when the server offers it, `required` refuses to send without it, `off` never upgrades. */
  starttls?: 'auto' | 'required' | 'off'
  user?: string
  /** Name of the secret holding the SMTP password. */
  password_secret?: string
  from?: string
  /** `reject_unauthorized` defaults to true; `ca_file` (relative to this file) adds a trusted CA; `servername` overrides the name checked. */
  tls?: { reject_unauthorized?: boolean; ca_file?: string; servername?: string }
}

export interface Config {
  readonly configFile?: string
  readonly store: string
  readonly workflows: readonly string[]
  readonly durability: 'process' | 'host'
  readonly worker: {
    readonly maxRuns: number
    readonly leaseMs: number
    readonly pollMs: number
    readonly graceMs: number
  }
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error'
  readonly plugins: readonly string[]
  readonly schemas: readonly string[]
  readonly handlers: Readonly<Record<string, HandlerConfig>>
  readonly server: { readonly host: string; readonly port: number }
  readonly ingest: {
    readonly unknownTypes: 'accept' | 'reject'
    readonly maxBody: number
    readonly maxDepth: number
    readonly maxKeys: number
  }
  readonly timezone: string
  readonly files: { readonly roots: readonly string[]; readonly maxBytes: number }
  readonly shell: { readonly env: readonly string[]; readonly timeoutMs: number; readonly maxOutput: number }
  readonly http: {
    readonly allow: readonly string[]
    readonly deny: readonly string[]
    readonly timeoutMs: number
    readonly maxResponse: number
  }
  readonly ai: { readonly default?: string; readonly providers: Readonly<Record<string, AiProviderConfig>> }
  readonly notify: {
    readonly slack?: { readonly webhookUrl?: string; readonly webhookUrlSecret?: string }
    readonly email?: Readonly<EmailConfig>
  }
  readonly secrets: { readonly keyFile: string }
  /** Directory of the store file: keys, server address file, exports. */
  readonly dataDir: string
  /** Directory relative plugin paths are resolved against (the config file's). */
  readonly baseDir: string
}

export interface ConfigFlags {
  config?: string
  store?: string
  workflows?: string[]
  host?: string
  port?: string | number
}

/** A handler target as written in homeostat.yaml (see docs/handlers.md). */
export type HandlerConfig =
  | { module: string }
  | { url: string; timeout?: string | number; retries?: number; headers?: Record<string, string> }

function bytes(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value
  const m = typeof value === 'string' ? /^\s*(\d+)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(value) : null
  if (!m) bad(where, `not a size: ${JSON.stringify(value)} (use bytes, 512kb or 1mb)`)
  const unit = (m[2] ?? 'b').toLowerCase()
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1)
}

const KEYS = new Set([
  'store',
  'workflows',
  'durability',
  'worker',
  'log_level',
  'plugins',
  'schemas',
  'handlers',
  'server',
  'ingest',
  'timezone',
  'files',
  'shell',
  'http',
  'ai',
  'notify',
  'secrets',
])
const WORKER_KEYS = new Set(['max_runs', 'lease', 'poll', 'grace'])

function bad(where: string, message: string): never {
  throw new HsError('HS_ERR_CONFIG_INVALID', `${where}: ${message}`)
}

function duration(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback
  const ms = parseDuration(value as string | number)
  if (ms === undefined) bad(where, `not a duration: ${JSON.stringify(value)} (use 250ms, 4s, 5m, 1h)`)
  return ms
}

function readConfigFile(file: string): UserConfig {
  let data: unknown
  try {
    data = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    bad(file, `cannot read: ${(err as Error).message}`)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) bad(file, 'must be a mapping of settings')
  for (const key of Object.keys(data)) {
    if (!KEYS.has(key)) bad(file, `unknown key \`${key}\` (known: ${[...KEYS].join(', ')})`)
  }
  const worker = (data as UserConfig).worker
  if (worker !== undefined) {
    if (typeof worker !== 'object' || worker === null) bad(file, '`worker` must be a mapping')
    for (const key of Object.keys(worker)) {
      if (!WORKER_KEYS.has(key))
        bad(file, `unknown key \`worker.${key}\` (known: ${[...WORKER_KEYS].join(', ')})`)
    }
  }
  return data as UserConfig
}

function port(value: unknown): number {
  if (value === undefined) return 8080
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    bad('server.port', `must be a port number 0-65535, not ${JSON.stringify(value)}`)
  return n
}

function unknownTypes(value: unknown): 'accept' | 'reject' {
  if (value === undefined) return 'accept'
  if (value !== 'accept' && value !== 'reject')
    bad('ingest.unknown_types', `must be accept or reject, not ${JSON.stringify(value)}`)
  return value
}

/** Resolves the configuration for one process. `cwd` and `env` are passed in by the entry point. */
export function resolveConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Config {
  const explicit = flags.config ?? env.HOMEOSTAT_CONFIG
  const configFile = explicit
    ? resolve(cwd, explicit)
    : existsSync(resolve(cwd, 'homeostat.yaml'))
      ? resolve(cwd, 'homeostat.yaml')
      : undefined
  if (explicit && !existsSync(configFile!)) bad('--config', `no such file: ${configFile}`)
  const user: UserConfig = configFile ? readConfigFile(configFile) : {}
  const base = configFile ? dirname(configFile) : cwd

  const envWorkflows = env.HOMEOSTAT_WORKFLOWS?.split(/[,:]/).filter(Boolean)
  const store = flags.store
    ? resolve(cwd, flags.store)
    : env.HOMEOSTAT_STORE
      ? resolve(cwd, env.HOMEOSTAT_STORE)
      : resolve(base, user.store ?? '.homeostat/homeostat.db')
  const workflows =
    flags.workflows && flags.workflows.length > 0
      ? flags.workflows.map((w) => resolve(cwd, w))
      : envWorkflows
        ? envWorkflows.map((w) => resolve(cwd, w))
        : (user.workflows ?? ['workflows']).map((w) => resolve(base, w))
  if (user.plugins !== undefined && !Array.isArray(user.plugins))
    bad(configFile ?? 'config', '`plugins` must be a list of module paths or package names')
  if (user.workflows !== undefined && !Array.isArray(user.workflows))
    bad(configFile ?? 'config', '`workflows` must be a list of directories')
  const durability = (env.HOMEOSTAT_DURABILITY ?? user.durability ?? 'process') as Config['durability']
  if (durability !== 'process' && durability !== 'host')
    bad('durability', `must be process or host, not ${String(durability)}`)
  const logLevel = (env.HOMEOSTAT_LOG_LEVEL ?? user.log_level ?? 'warn') as Config['logLevel']
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    bad('log_level', `must be debug, info, warn or error, not ${logLevel}`)
  const w = user.worker ?? {}
  const maxRuns = Number(env.HOMEOSTAT_WORKER_MAX_RUNS ?? w.max_runs ?? 1000)
  if (!Number.isInteger(maxRuns) || maxRuns < 1)
    bad('worker.max_runs', `must be a positive integer, not ${String(w.max_runs)}`)

  return Object.freeze({
    ...(configFile ? { configFile } : {}),
    store,
    workflows: Object.freeze(workflows),
    durability,
    worker: Object.freeze({
      maxRuns,
      leaseMs: duration(env.HOMEOSTAT_WORKER_LEASE ?? w.lease, 'worker.lease', 30_000),
      pollMs: duration(env.HOMEOSTAT_WORKER_POLL ?? w.poll, 'worker.poll', 250),
      graceMs: duration(env.HOMEOSTAT_WORKER_GRACE ?? w.grace, 'worker.grace', 10_000),
    }),
    logLevel,
    plugins: Object.freeze([...(user.plugins ?? [])]),
    baseDir: base,
    schemas: Object.freeze((user.schemas ?? ['schemas']).map((p) => resolve(base, p))),
    handlers: Object.freeze({ ...(user.handlers ?? {}) }),
    server: Object.freeze({
      host: flags.host ?? env.HOMEOSTAT_HOST ?? user.server?.host ?? '127.0.0.1',
      port: port(flags.port ?? env.HOMEOSTAT_PORT ?? user.server?.port),
    }),
    ingest: Object.freeze({
      unknownTypes: unknownTypes(user.ingest?.unknown_types),
      maxBody: bytes(user.ingest?.max_body, 'ingest.max_body', 1024 * 1024),
      maxDepth: user.ingest?.max_depth ?? 32,
      maxKeys: user.ingest?.max_keys ?? 10_000,
    }),
    dataDir: dirname(store),
    timezone: timezone(user.timezone),
    files: Object.freeze({
      roots: Object.freeze(list(user.files?.roots, 'files.roots', ['.']).map((p) => resolve(base, p))),
      maxBytes: bytes(user.files?.max_bytes, 'files.max_bytes', 10 * 1024 * 1024),
    }),
    shell: Object.freeze({
      env: Object.freeze(list(user.shell?.env, 'shell.env', ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ'])),
      timeoutMs: duration(user.shell?.timeout, 'shell.timeout', 60_000),
      maxOutput: bytes(user.shell?.max_output, 'shell.max_output', 1024 * 1024),
    }),
    http: Object.freeze({
      allow: Object.freeze(destinations(user.http?.allow, 'http.allow')),
      deny: Object.freeze(destinations(user.http?.deny, 'http.deny')),
      timeoutMs: duration(user.http?.timeout, 'http.timeout', 30_000),
      maxResponse: bytes(user.http?.max_response, 'http.max_response', 10 * 1024 * 1024),
    }),
    ai: Object.freeze({
      ...(user.ai?.default === undefined ? {} : { default: user.ai.default }),
      providers: Object.freeze(aiProviders(user.ai?.providers)),
    }),
    notify: Object.freeze({
      ...(user.notify?.slack
        ? {
            slack: Object.freeze({
              ...(user.notify.slack.webhook_url ? { webhookUrl: user.notify.slack.webhook_url } : {}),
              ...(user.notify.slack.webhook_url_secret
                ? { webhookUrlSecret: user.notify.slack.webhook_url_secret }
                : {}),
            }),
          }
        : {}),
      ...(user.notify?.email ? { email: emailConfig(user.notify.email, base) } : {}),
    }),
    secrets: Object.freeze({
      keyFile: user.secrets?.key_file
        ? resolve(base, user.secrets.key_file)
        : join(dirname(store), 'secrets.key'),
    }),
  })
}

function list(value: unknown, where: string, fallback: string[]): string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    bad(where, `must be a list of strings, not ${JSON.stringify(value)}`)
  return value as string[]
}

function timezone(value: unknown): string {
  if (value === undefined) return 'UTC'
  if (typeof value !== 'string')
    bad('timezone', `must be an IANA time zone name, not ${JSON.stringify(value)}`)
  try {
    new Intl.DateTimeFormat('en', { timeZone: value })
  } catch {
    bad('timezone', `unknown time zone ${JSON.stringify(value)} (use an IANA name such as Europe/Paris)`)
  }
  return value
}

/** An allow/deny list of the destination guard, each entry checked now so a typo fails at start-up. */
function destinations(value: unknown, where: string): string[] {
  const entries = list(value, where, [])
  entries.forEach((entry, i) => {
    try {
      parseDestinationRule(entry)
    } catch (err) {
      bad(`${where}[${i}]`, (err as Error).message)
    }
  })
  return entries
}

function emailConfig(email: EmailConfig, base: string): Readonly<EmailConfig> {
  if (email.starttls !== undefined && !['auto', 'required', 'off'].includes(email.starttls))
    bad('notify.email.starttls', `must be auto, required or off, not ${JSON.stringify(email.starttls)}`)
  const tls = email.tls?.ca_file ? { ...email.tls, ca_file: resolve(base, email.tls.ca_file) } : email.tls
  return Object.freeze({ ...email, ...(tls ? { tls: Object.freeze(tls) } : {}) })
}

function aiProviders(value: unknown): Record<string, AiProviderConfig> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('ai.providers', 'must be a mapping of provider name to { kind, url, model }')
  const out: Record<string, AiProviderConfig> = {}
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const p = raw as Partial<AiProviderConfig> | null
    const where = `ai.providers.${name}`
    if (typeof p !== 'object' || p === null) bad(where, 'must be a mapping { kind, url, model }')
    if (p.kind !== 'openai' && p.kind !== 'anthropic')
      bad(`${where}.kind`, `must be openai or anthropic, not ${JSON.stringify(p.kind)}`)
    if (typeof p.url !== 'string' || !/^https?:\/\//.test(p.url))
      bad(`${where}.url`, `must be an http(s) URL, not ${JSON.stringify(p.url)}`)
    if (typeof p.model !== 'string' || p.model === '') bad(`${where}.model`, 'must name a model')
    out[name] = Object.freeze({ ...p }) as AiProviderConfig
  }
  return out
}
