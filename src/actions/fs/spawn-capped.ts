import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { CodedNonRetryableError, errnoOf } from './action-errors.ts'

/** Bytes of stderr kept from the end of the stream for error messages, whatever the cap. */
export const STDERR_TAIL_BYTES = 2048

export interface SpawnCappedOptions {
  /** Program name (looked up in `env.PATH`) or path; never run through a shell. */
  readonly command: string
  /** Arguments, passed as they are: no globbing, no splitting, no expansion. */
  readonly args: readonly string[]
  /** Working directory, already checked against the roots. */
  readonly cwd: string
  /** The complete environment of the child: nothing is inherited. */
  readonly env: Readonly<Record<string, string>>
  /** Written to the child's stdin, then closed; without it stdin is /dev/null. */
  readonly stdin?: string | Buffer
  /** After this many milliseconds the child's process group gets SIGTERM. */
  readonly timeoutMs: number
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly killGraceMs: number
  /** Most bytes kept of stdout and of stderr each; the rest is read and dropped. */
  readonly maxOutput: number
  /** Aborting it stops the child like a timeout does. */
  readonly signal: AbortSignal
  /** Action type for messages. */
  readonly action: string
}

export interface SpawnCappedResult {
  /** Exit code, or null when a signal ended the child. */
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: Buffer
  readonly stdoutTruncated: boolean
  readonly stderrTruncated: boolean
  /** The last bytes of stderr as text, for error messages (complete even when `stderr` was cut). */
  readonly stderrTail: string
  readonly durationMs: number
  /** The timeout fired and the child was stopped. */
  readonly timedOut: boolean
  /** `signal` was aborted and the child was stopped. */
  readonly aborted: boolean
}

/**
 * Spawns a program with an argument array (`shell: false`) in its own process group, feeds it
 * `stdin`, captures stdout and stderr up to `maxOutput` bytes each, and stops the whole group
 * (SIGTERM, then SIGKILL after `killGraceMs`) on timeout or abort. Resolves once the child has
 * exited and its output is read, so no process outlives a timed-out or cancelled step. Rejects only
 * when the program cannot be started (`HS_ERR_COMMAND_NOT_FOUND`: not found, not executable, or a
 * bare name while the environment has no PATH).
 */
export function spawnCapped(options: SpawnCappedOptions): Promise<SpawnCappedResult> {
  const started = performance.now()
  if (!options.command.includes('/') && options.env.PATH === undefined) {
    // Without PATH the system would fall back to a default search path the allow-list never granted.
    return Promise.reject(
      new CodedNonRetryableError(
        'HS_ERR_COMMAND_NOT_FOUND',
        `${options.action}: command ${JSON.stringify(options.command)} cannot be looked up: PATH=(not set), as shell.env does not allow PATH; give an absolute path.`,
      ),
    )
  }
  return new Promise((resolvePromise, rejectPromise) => {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: { ...options.env },
      shell: false,
      detached: true,
      windowsHide: true,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const stdout = capture(child.stdout!, options.maxOutput)
    const stderr = capture(child.stderr!, options.maxOutput, STDERR_TAIL_BYTES)
    let timedOut = false
    let aborted = false
    let exited = false
    let settled = false
    let killTimer: NodeJS.Timeout | undefined
    let drainTimer: NodeJS.Timeout | undefined

    const stop = (): void => {
      signalGroup(child.pid, 'SIGTERM')
      killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs)
    }
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, options.timeoutMs)
    const onAbort = (): void => {
      aborted = true
      stop()
    }
    if (options.signal.aborted) onAbort()
    else options.signal.addEventListener('abort', onAbort, { once: true })

    const cleanup = (): void => {
      clearTimeout(timer)
      clearTimeout(killTimer)
      clearTimeout(drainTimer)
      options.signal.removeEventListener('abort', onAbort)
    }
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return
      settled = true
      cleanup()
      resolvePromise({
        exitCode,
        signal,
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        stdoutTruncated: stdout.truncated(),
        stderrTruncated: stderr.truncated(),
        stderrTail: stderr.tail(),
        durationMs: Math.round(performance.now() - started),
        timedOut,
        aborted,
      })
    }

    child.once('error', (err) => {
      if (exited || settled) return
      settled = true
      cleanup()
      const code = errnoOf(err)
      if (code === 'ENOENT') {
        rejectPromise(
          new CodedNonRetryableError(
            'HS_ERR_COMMAND_NOT_FOUND',
            `${options.action}: command ${JSON.stringify(options.command)} was not found (PATH=${options.env.PATH ?? '(not set)'}); give an absolute path or allow PATH in shell.env.`,
            { cause: err },
          ),
        )
      } else if (code === 'EACCES') {
        rejectPromise(
          new CodedNonRetryableError(
            'HS_ERR_COMMAND_NOT_FOUND',
            `${options.action}: command ${JSON.stringify(options.command)} is not executable (permission denied).`,
            { cause: err },
          ),
        )
      } else {
        rejectPromise(err)
      }
    })
    child.once('exit', (code, signal) => {
      exited = true
      // A grandchild that left the group may hold the pipes open: stop waiting for it after the grace.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
        finish(code, signal)
      }, options.killGraceMs)
    })
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => finish(code, signal))

    if (child.stdin) {
      // A child that exits without reading its input closes the pipe: that is not an error.
      child.stdin.on('error', () => undefined)
      child.stdin.end(options.stdin)
    }
  })
}

/** Sends `signal` to the child's whole process group (it is its leader), ignoring one already gone. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already exited
    }
  }
}

interface Capture {
  bytes(): Buffer
  truncated(): boolean
  tail(): string
}

/** Reads a stream to its end, keeping the first `max` bytes (and optionally the last `tailBytes`). */
function capture(stream: Readable, max: number, tailBytes = 0): Capture {
  const kept: Buffer[] = []
  let keptBytes = 0
  let dropped = false
  let tail = Buffer.alloc(0)
  stream.on('data', (chunk: Buffer) => {
    if (keptBytes < max) {
      const room = max - keptBytes
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk
      kept.push(part)
      keptBytes += part.length
      if (part.length < chunk.length) dropped = true
    } else if (chunk.length > 0) {
      dropped = true
    }
    if (tailBytes > 0) {
      tail = Buffer.concat([tail, chunk])
      if (tail.length > tailBytes) tail = tail.subarray(tail.length - tailBytes)
    }
  })
  stream.on('error', () => undefined)
  return {
    bytes: () => Buffer.concat(kept),
    truncated: () => dropped,
    tail: () => tail.toString('utf8').trim(),
  }
}

/**
 * The environment a command starts from: only the allow-listed names (`shell.env`) that are set
 * in `source` (the process environment the CLI resolved). Everything else is dropped.
 */
export function allowedEnv(
  allow: readonly string[],
  source: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of allow) {
    const value = source[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

/** `printf '%s\n' 'a b'`: argv as a person would type it, for plans and messages only (never executed). */
export function displayArgv(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ')
}
