import { parseDuration } from '../core/duration.ts'
import { HsError } from '../core/errors.ts'
import {
  HANDLER_NAME_PATTERN,
  HANDLER_TARGET_PATTERN,
  parseHandlerTarget,
  unknownHandlerError,
  unknownMethodError,
  type HandlerCallOptions,
  type HandlerDescription,
  type HandlerInvoker,
} from '../core/handler-port.ts'
import type { WorkflowDoc } from '../core/workflow.ts'
import { HttpHandler, type HttpHandlerDeps } from './handler-http.ts'
import { importHandlerModule, ModuleHandler } from './handler-module.ts'

/**
 * The handlers configured under `handlers:` in homeostat.yaml, by name: in-process modules and HTTP
 * endpoints. Built once at start-up (`HandlerRegistry.load`), then handed to the `handler.call`
 * action as its `HandlerInvoker`. docs/handlers.md describes the configuration and both protocols.
 */

/** An in-process handler: an ES module (path relative to the config file, or a package name). */
export interface ModuleHandlerConfig {
  module: string
}

/** An HTTP handler: `POST <url>/<method>`. */
export interface HttpHandlerConfig {
  /** Base URL, http or https. */
  url: string
  /** Limit per attempt: `250ms`, `4s`, … or milliseconds. Default `30s`. */
  timeout?: string | number
  /** Extra attempts on network errors, timeouts, 408, 429 and 5xx. Default 2; at most 10. */
  retries?: number
  /** Sent with every request (e.g. `authorization`); `content-type` and `idempotency-key` are always ours. */
  headers?: Record<string, string>
}

export type HandlerConfig = ModuleHandlerConfig | HttpHandlerConfig

/** Defaults of an HTTP handler's optional settings. */
export const HTTP_HANDLER_DEFAULTS = { timeoutMs: 30_000, retries: 2 } as const
const MAX_RETRIES = 10
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const MODULE_KEYS = new Set(['module'])
const HTTP_KEYS = new Set(['url', 'timeout', 'retries', 'headers'])

export type HandlerRegistryOptions = Partial<HttpHandlerDeps> & {
  /** In-process handlers that plugins provide (`definePlugin({ handlers })`), by handler name. */
  plugins?: Readonly<Record<string, { plugin: string; methods: object }>>
}

type Handler = ModuleHandler | HttpHandler

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

export class HandlerRegistry implements HandlerInvoker {
  readonly #handlers: Map<string, Handler>

  private constructor(handlers: Map<string, Handler>) {
    this.#handlers = handlers
  }

  /**
   * Checks the configuration (every problem at once, as `HS_ERR_CONFIG_INVALID` naming
   * `handlers.<name>.<key>`), imports each module handler once, and returns the registry.
   * `baseDir` is the directory relative module paths are resolved against (the config file's).
   */
  static async load(
    config: Readonly<Record<string, HandlerConfig>> | undefined,
    baseDir: string,
    options: HandlerRegistryOptions = {},
  ): Promise<HandlerRegistry> {
    const deps: HttpHandlerDeps = {
      sleep: options.sleep ?? sleep,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    }
    const problems: string[] = []
    const handlers = new Map<string, Handler>()
    const modules: Array<[string, string]> = []
    if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
      throw new HsError(
        'HS_ERR_CONFIG_INVALID',
        '`handlers` must be a mapping of handler names to { module } or { url }',
      )
    }
    for (const [name, raw] of Object.entries(config ?? {})) {
      const at = `handlers.${name}`
      if (!HANDLER_NAME_PATTERN.test(name)) {
        problems.push(
          `${at}: a handler name is letters, digits, _ and - (it is written before the dot of a target)`,
        )
        continue
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        problems.push(
          `${at}: must be a mapping with \`module\` (a module path) or \`url\` (an HTTP base URL)`,
        )
        continue
      }
      const entry = raw as unknown as Record<string, unknown>
      if ('module' in entry === 'url' in entry) {
        problems.push(
          `${at}: give exactly one of \`module\` (an in-process module) or \`url\` (an HTTP endpoint)`,
        )
        continue
      }
      const known = 'module' in entry ? MODULE_KEYS : HTTP_KEYS
      for (const key of Object.keys(entry)) {
        if (!known.has(key)) problems.push(`${at}: unknown key \`${key}\` (known: ${[...known].join(', ')})`)
      }
      if ('module' in entry) {
        if (typeof entry.module !== 'string' || entry.module.trim() === '')
          problems.push(`${at}.module: must be a module path (relative to the config file) or a package name`)
        else modules.push([name, entry.module])
        continue
      }
      const http = httpSettings(at, entry, problems)
      if (http) handlers.set(name, new HttpHandler(name, http, deps))
    }
    for (const [name, { plugin, methods }] of Object.entries(options.plugins ?? {})) {
      if (Object.hasOwn(config ?? {}, name))
        problems.push(`handlers.${name}: plugin ${plugin} provides a handler of this name too; rename one`)
      else handlers.set(name, new ModuleHandler(name, `plugin ${plugin}`, { default: methods }))
    }
    if (problems.length > 0) throw new HsError('HS_ERR_CONFIG_INVALID', problems.join('\n'))
    for (const [name, spec] of modules) handlers.set(name, await importHandlerModule(name, spec, baseDir))
    return new HandlerRegistry(new Map([...handlers].sort(([a], [b]) => a.localeCompare(b))))
  }

  async call(target: string, args: unknown, options: HandlerCallOptions): Promise<unknown> {
    const { handler: name, method } = parseHandlerTarget(target)
    const handler = this.#handlers.get(name)
    if (!handler) throw unknownHandlerError(target, name, [...this.#handlers.keys()])
    if (handler.kind === 'module' && !handler.has(method))
      throw unknownMethodError(target, name, method, handler.methods)
    return handler.invoke(method, args, options)
  }

  describe(): HandlerDescription[] {
    return [...this.#handlers.values()].map((h) =>
      h.kind === 'module'
        ? { name: h.name, kind: h.kind, methods: h.methods }
        : { name: h.name, kind: h.kind },
    )
  }
}

function httpSettings(
  at: string,
  entry: Record<string, unknown>,
  problems: string[],
): ConstructorParameters<typeof HttpHandler>[1] | undefined {
  const before = problems.length
  let url: URL | undefined
  if (typeof entry.url !== 'string' || !URL.canParse(entry.url)) {
    problems.push(`${at}.url: must be an absolute http(s) URL such as http://127.0.0.1:8080/kernels/avn`)
  } else {
    url = new URL(entry.url)
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      problems.push(`${at}.url: must use http or https, not ${url.protocol}`)
    if (url.search !== '' || url.hash !== '')
      problems.push(`${at}.url: must not have a query or fragment (the method is appended as a path segment)`)
  }
  let timeoutMs: number = HTTP_HANDLER_DEFAULTS.timeoutMs
  if (entry.timeout !== undefined) {
    const ms = parseDuration(entry.timeout as string | number)
    if (ms === undefined || ms <= 0)
      problems.push(
        `${at}.timeout: not a positive duration: ${JSON.stringify(entry.timeout)} (use 250ms, 4s, 5m)`,
      )
    else timeoutMs = ms
  }
  const retries = entry.retries ?? HTTP_HANDLER_DEFAULTS.retries
  if (!Number.isInteger(retries) || (retries as number) < 0 || (retries as number) > MAX_RETRIES)
    problems.push(
      `${at}.retries: must be a whole number from 0 to ${MAX_RETRIES}, not ${JSON.stringify(retries)}`,
    )
  const headers: Record<string, string> = {}
  if (entry.headers !== undefined) {
    if (typeof entry.headers !== 'object' || entry.headers === null || Array.isArray(entry.headers)) {
      problems.push(`${at}.headers: must be a mapping of header names to strings`)
    } else {
      for (const [key, value] of Object.entries(entry.headers)) {
        if (!HEADER_NAME.test(key)) problems.push(`${at}.headers: \`${key}\` is not a valid header name`)
        else if (typeof value !== 'string' || /[\r\n\0]/.test(value))
          problems.push(`${at}.headers.${key}: must be a single-line string`)
        else headers[key.toLowerCase()] = value
      }
    }
  }
  if (problems.length > before || !url) return undefined
  return {
    url: url.href.replace(/\/+$/, ''),
    timeoutMs,
    retries: retries as number,
    headers: Object.freeze(headers),
  }
}

/**
 * The distinct handlers a workflow calls, in order of first use: the part before the dot of every
 * `handler.call` step's `with.target` (targets computed by a template are not known until run time
 * and are left out). The "workflows by handler" statistic counts each workflow once per handler here.
 */
export function handlersUsedBy(doc: WorkflowDoc): string[] {
  const used = new Set<string>()
  for (const step of doc.steps) {
    if (step.uses !== 'handler.call') continue
    const target = step.with?.target
    if (typeof target === 'string' && HANDLER_TARGET_PATTERN.test(target))
      used.add(target.slice(0, target.indexOf('.')))
  }
  return [...used]
}

/**
 * How many workflows call each handler (`handlersUsedBy`), most-used first; ties keep the order in
 * which the handlers first appear in `docs`.
 */
export function workflowsByHandler(
  docs: Iterable<WorkflowDoc>,
): Array<{ handler: string; workflows: number }> {
  const counts = new Map<string, number>()
  for (const doc of docs) for (const h of handlersUsedBy(doc)) counts.set(h, (counts.get(h) ?? 0) + 1)
  return [...counts]
    .map(([handler, workflows]) => ({ handler, workflows }))
    .sort((a, b) => b.workflows - a.workflows)
}
