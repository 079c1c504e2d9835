import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
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
  /** Directory relative plugin paths are resolved against (the config file's). */
  readonly baseDir: string
}

export interface ConfigFlags {
  config?: string
  store?: string
  workflows?: string[]
}

const KEYS = new Set(['store', 'workflows', 'durability', 'worker', 'log_level', 'plugins'])
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
  })
}
