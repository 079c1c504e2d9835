import type { ActionDefinition, ActionPlan } from '../core/action.ts'
import { formatDuration } from '../core/duration.ts'
import { DURATION_SCHEMA, durationMs } from './duration-param.ts'
import type { ActionServices } from './action-services.ts'
import { CodedError, CodedNonRetryableError } from './fs/action-errors.ts'
import { asAction } from './fs/file-schemas.ts'
import { PathGuard, type GuardedPath } from './fs/path-guard.ts'
import { allowedEnv, displayArgv, spawnCapped, type SpawnCappedResult } from './fs/spawn-capped.ts'

/** Milliseconds between SIGTERM and SIGKILL when `kill_grace` is not given. */
export const DEFAULT_KILL_GRACE_MS = 2000

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

interface ExecParams {
  command: string
  args?: string[]
  cwd?: string
  env?: Record<string, string>
  stdin?: string
  timeout?: string | number
  kill_grace?: string | number
  allow_failure?: boolean
  ok_exit_codes?: number[]
}

export interface ExecOutput {
  command: string
  args: string[]
  cwd: string
  exitCode: number | null
  signal: string | null
  stdout: string
  stderr: string
  stdoutTruncated: boolean
  stderrTruncated: boolean
  durationMs: number
}

function refuse(message: string): CodedNonRetryableError {
  return new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', `shell.exec: ${message}`)
}

/** A failed run's message: what ran, where, how it ended, and the end of its stderr. */
export function describeEnd(action: string, argv: string, cwd: string, r: SpawnCappedResult): string {
  const how =
    r.exitCode !== null ? `exited with code ${r.exitCode}` : `was killed by ${r.signal ?? 'a signal'}`
  const tail = r.stderrTail === '' ? '(stderr was empty)' : `stderr ends: ${r.stderrTail.slice(-1000)}`
  return `${action}: \`${argv}\` ${how} in ${cwd} after ${formatDuration(r.durationMs)}; ${tail}`
}

/**
 * `shell.exec`: runs one program with an argument array, never through a shell, so
 * metacharacters in parameters (`;`, `$(...)`, backticks, `|`, globs, newlines) reach the program
 * as literal bytes. The working directory must be inside the file roots; the environment holds
 * only the `shell.env` allow-list (taken from the process environment) plus the step's `env`.
 * A timeout or the run's abort signal stops the whole process group (SIGTERM, then SIGKILL after
 * `kill_grace`). A non-zero exit fails the step with the exit code and the end of stderr
 * (`HS_ERR_COMMAND_FAILED`) unless `allow_failure` or the code is listed in `ok_exit_codes`.
 */
export function shellActions(services: ActionServices): ActionDefinition[] {
  const guard = new PathGuard(services.files.roots)

  async function prepare(params: ExecParams) {
    const command = params.command
    const args = params.args ?? []
    if (command.trim() === '') throw refuse('command is empty')
    if ([command, ...args].some((a) => a.includes('\0')))
      throw refuse('command and args must not contain NUL bytes')
    const cwd: GuardedPath = await guard.resolve(params.cwd ?? '.', {
      action: 'shell.exec',
      label: 'cwd',
      follow: true,
    })
    if (!cwd.stats?.isDirectory()) {
      throw new CodedNonRetryableError(
        'HS_ERR_FILE_NOT_FOUND',
        `shell.exec: cwd ${JSON.stringify(cwd.input)} is not an existing directory (${cwd.absolute}).`,
      )
    }
    const env = allowedEnv(services.shell.env, services.env)
    for (const [name, value] of Object.entries(params.env ?? {})) {
      if (!ENV_NAME.test(name)) throw refuse(`env name ${JSON.stringify(name)} is not a valid variable name`)
      if (typeof value !== 'string' || value.includes('\0'))
        throw refuse(`env ${name} must be a string without NUL bytes`)
      env[name] = value
    }
    const timeoutMs = durationMs(params.timeout, 'shell.exec: timeout', services.shell.timeoutMs)
    const killGraceMs = durationMs(params.kill_grace, 'shell.exec: kill_grace', DEFAULT_KILL_GRACE_MS)
    return { command, args, cwd, env, timeoutMs, killGraceMs }
  }

  const exec: ActionDefinition<ExecParams, ExecOutput> = {
    type: 'shell.exec',
    description:
      'Runs a program with an argument array (no shell), in a directory inside the file roots, with an allow-listed environment, a timeout and capped output.',
    params: {
      type: 'object',
      properties: {
        command: {
          type: 'string',
          minLength: 1,
          description:
            'Program to run: a name looked up in PATH (if PATH is allowed) or a path. Never a shell line.',
        },
        args: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description:
            'Arguments, each passed as it is: no splitting, globbing, quoting or variable expansion.',
        },
        cwd: {
          type: 'string',
          minLength: 1,
          default: '.',
          description:
            'Working directory inside the file roots; relative to the first root. Default: the first root.',
        },
        env: {
          type: 'object',
          propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          additionalProperties: { type: 'string' },
          description:
            'Extra environment variables, on top of the ones `shell.env` allows from the process environment.',
        },
        stdin: {
          type: 'string',
          description: "Text written to the program's standard input (default: empty input).",
        },
        timeout: {
          ...DURATION_SCHEMA,
          description: 'Stop the program after this long (`30s`, `5m`, or ms). Default: shell.timeout (60s).',
        },
        kill_grace: {
          ...DURATION_SCHEMA,
          description: 'Time between SIGTERM and SIGKILL when stopping the program. Default 2s.',
        },
        allow_failure: {
          type: 'boolean',
          default: false,
          description: 'Succeed whatever the exit code (the output carries it).',
        },
        ok_exit_codes: {
          type: 'array',
          items: { type: 'integer', minimum: 0, maximum: 255 },
          description: 'Exit codes besides 0 that count as success (`[1]` for grep finding nothing).',
        },
      },
      required: ['command'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The program run.' },
        args: { type: 'array', items: { type: 'string' }, description: 'Its arguments.' },
        cwd: { type: 'string', description: 'Absolute working directory.' },
        exitCode: { type: ['integer', 'null'], description: 'Exit code; null when a signal ended it.' },
        signal: { type: ['string', 'null'], description: 'Signal that ended it (SIGKILL, ...), or null.' },
        stdout: { type: 'string', description: 'Standard output (UTF-8), at most shell.max_output bytes.' },
        stderr: { type: 'string', description: 'Standard error (UTF-8), at most shell.max_output bytes.' },
        stdoutTruncated: {
          type: 'boolean',
          description: 'True when stdout was longer than the cap and was cut.',
        },
        stderrTruncated: {
          type: 'boolean',
          description: 'True when stderr was longer than the cap and was cut.',
        },
        durationMs: { type: 'integer', description: 'Wall-clock run time in milliseconds.' },
      },
      required: [
        'command',
        'args',
        'cwd',
        'exitCode',
        'signal',
        'stdout',
        'stderr',
        'stdoutTruncated',
        'stderrTruncated',
        'durationMs',
      ],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const p = await prepare(params)
      const argv = displayArgv(p.command, p.args)
      const r = await spawnCapped({
        action: 'shell.exec',
        command: p.command,
        args: p.args,
        cwd: p.cwd.absolute,
        env: p.env,
        stdin: params.stdin,
        timeoutMs: p.timeoutMs,
        killGraceMs: p.killGraceMs,
        maxOutput: services.shell.maxOutput,
        signal: ctx.signal,
      })
      if (r.aborted) {
        const reason: unknown = ctx.signal.reason
        throw reason instanceof Error
          ? reason
          : new Error(`shell.exec: \`${argv}\` was stopped: ${String(reason)}`)
      }
      if (r.timedOut) {
        throw new CodedError(
          'HS_ERR_COMMAND_TIMEOUT',
          `shell.exec: \`${argv}\` was stopped after the ${formatDuration(p.timeoutMs)} timeout (${r.signal ?? 'exited'}) in ${p.cwd.absolute}; ${r.stderrTail === '' ? 'stderr was empty' : `stderr ends: ${r.stderrTail.slice(-1000)}`}`,
        )
      }
      const ok =
        r.exitCode === 0 || (r.exitCode !== null && (params.ok_exit_codes ?? []).includes(r.exitCode))
      if (!ok && !params.allow_failure) {
        throw new CodedNonRetryableError(
          'HS_ERR_COMMAND_FAILED',
          describeEnd('shell.exec', argv, p.cwd.absolute, r),
        )
      }
      return {
        command: p.command,
        args: p.args,
        cwd: p.cwd.absolute,
        exitCode: r.exitCode,
        signal: r.signal,
        stdout: r.stdout.toString('utf8'),
        stderr: r.stderr.toString('utf8'),
        stdoutTruncated: r.stdoutTruncated,
        stderrTruncated: r.stderrTruncated,
        durationMs: r.durationMs,
      }
    },
    async plan(params): Promise<ActionPlan> {
      const p = await prepare(params)
      return {
        summary: `run \`${displayArgv(p.command, p.args)}\` in ${p.cwd.relative} (timeout ${formatDuration(p.timeoutMs)})`,
        details: {
          command: p.command,
          args: p.args,
          cwd: p.cwd.absolute,
          env: Object.keys(p.env).sort(),
          timeoutMs: p.timeoutMs,
          stdinBytes: params.stdin === undefined ? 0 : Buffer.byteLength(params.stdin),
        },
      }
    },
  }
  return [asAction(exec)]
}
