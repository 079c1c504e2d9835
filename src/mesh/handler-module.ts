import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { HsError, NonRetryableError } from '../core/errors.ts'
import { HANDLER_METHOD_PATTERN, HandlerTimeoutError, type HandlerCallOptions } from '../core/handler-port.ts'

/**
 * In-process handlers: an ES module whose methods are called directly. Calling convention (also in
 * docs/handlers.md): `method(args, context)`, where `args` is the step's rendered `with.args` object
 * (`{}` when absent, a copy the handler may keep) and `context` is `{ signal, idempotencyKey, handler,
 * method }`. A method may be sync or async; what it returns (made JSON) is the step's output. Throwing
 * an error with `retryable: false` stops the engine's retries.
 */

/** The second argument every module handler method receives. */
export interface HandlerMethodContext {
  /** Aborted on step timeout, call timeout, run timeout, cancellation or shutdown. */
  readonly signal: AbortSignal
  /** Stable across retries and crash recovery: use it to make the call's effect happen once. */
  readonly idempotencyKey: string
  readonly handler: string
  readonly method: string
}

type Method = (this: unknown, args: unknown, context: HandlerMethodContext) => unknown

/**
 * The callable methods of a module's exports: the default export when it is an object (or class
 * instance) with function-valued properties, otherwise the module's named function exports. Names
 * starting with `_` and `constructor` are never callable.
 */
export function methodsOf(exports: Record<string, unknown>): { self: unknown; methods: Map<string, Method> } {
  const fromDefault = collect(exports.default)
  if (fromDefault.size > 0) return { self: exports.default, methods: fromDefault }
  const named = new Map<string, Method>()
  for (const [name, value] of Object.entries(exports)) {
    if (name !== 'default' && typeof value === 'function' && HANDLER_METHOD_PATTERN.test(name))
      named.set(name, value as Method)
  }
  return { self: undefined, methods: named }
}

function collect(value: unknown): Map<string, Method> {
  const methods = new Map<string, Method>()
  if (typeof value !== 'object' || value === null) return methods
  // own properties first, then the class prototypes, stopping before Object.prototype
  for (let o: object | null = value; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (methods.has(name) || name === 'constructor' || !HANDLER_METHOD_PATTERN.test(name)) continue
      const descriptor = Object.getOwnPropertyDescriptor(o, name)
      if (descriptor && typeof descriptor.value === 'function') methods.set(name, descriptor.value as Method)
    }
  }
  return methods
}

export class ModuleHandler {
  readonly kind = 'module'
  readonly name: string
  readonly spec: string
  readonly #self: unknown
  readonly #methods: Map<string, Method>

  constructor(name: string, spec: string, exports: Record<string, unknown>) {
    this.name = name
    this.spec = spec
    const { self, methods } = methodsOf(exports)
    if (methods.size === 0) {
      throw new HsError(
        'HS_ERR_CONFIG_INVALID',
        `handlers.${name}: module ${spec} exports no methods; export functions, or a default object whose properties are functions`,
      )
    }
    this.#self = self
    this.#methods = methods
  }

  get methods(): string[] {
    return [...this.#methods.keys()].sort()
  }

  has(method: string): boolean {
    return this.#methods.has(method)
  }

  async invoke(method: string, args: unknown, options: HandlerCallOptions): Promise<unknown> {
    const fn = this.#methods.get(method)!
    const target = `${this.name}.${method}`
    const signal =
      options.timeoutMs === undefined
        ? options.signal
        : AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)])
    const reason = (): unknown =>
      options.signal.aborted ? options.signal.reason : new HandlerTimeoutError(target, options.timeoutMs ?? 0)
    if (signal.aborted) throw reason()
    const context: HandlerMethodContext = {
      signal,
      idempotencyKey: options.idempotencyKey,
      handler: this.name,
      method,
    }
    const input = args === undefined ? {} : structuredClone(args)
    // a method that ignores its signal still gives the step back on abort; its promise is left to settle
    const result = await new Promise((resolvePromise, reject) => {
      const onAbort = (): void => reject(reason())
      signal.addEventListener('abort', onAbort, { once: true })
      void Promise.resolve()
        .then(() => fn.call(this.#self, input, context))
        .then(resolvePromise, reject)
        .finally(() => signal.removeEventListener('abort', onAbort))
    })
    return toJson(result, target)
  }
}

/** The value as JSON would carry it (`undefined` becomes null); a value JSON cannot hold is an error. */
function toJson(value: unknown, target: string): unknown {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new NonRetryableError(
      `handler ${target} returned a value that cannot be stored as JSON: ${(err as Error).message}`,
      { cause: err },
    )
  }
  return text === undefined ? null : (JSON.parse(text) as unknown)
}

/** Imports a handler module: a path (relative to `baseDir`) or a package name. */
export async function importHandlerModule(
  name: string,
  spec: string,
  baseDir: string,
): Promise<ModuleHandler> {
  const target = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(baseDir, spec)).href : spec
  let exports: Record<string, unknown>
  try {
    exports = (await import(target)) as Record<string, unknown>
  } catch (err) {
    throw new HsError(
      'HS_ERR_CONFIG_INVALID',
      `handlers.${name}: cannot load module ${spec}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  return new ModuleHandler(name, spec, exports)
}
