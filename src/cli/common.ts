import type { Command } from 'commander'
import { openApp, type App, type OpenAppOptions } from './app.ts'
import { resolveConfig, type Config } from './config.ts'

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, runFailed: 1, badInput: 2, interrupted: 130 } as const

/** Thrown by a command to end with a given exit code after it printed its own output. */
export class ExitCode extends Error {
  readonly code: number
  constructor(code: number) {
    super(`exit ${code}`)
    this.code = code
  }
}

export interface GlobalOptions {
  config?: string
  store?: string
  workflows?: string[]
  json?: boolean
}

/** Resolves configuration from the global options, opens the app, runs `fn`, closes the app. */
export function withApp(
  program: Command,
  fn: (app: App, opts: GlobalOptions) => Promise<void>,
  options: OpenAppOptions = {},
): () => Promise<void> {
  return async () => {
    const opts = program.opts<GlobalOptions>()
    const config: Config = resolveConfig(opts, process.env, process.cwd())
    const app = await openApp(config, options)
    try {
      await fn(app, opts)
    } finally {
      await app.close()
    }
  }
}

/** Commander collector for repeatable options. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
