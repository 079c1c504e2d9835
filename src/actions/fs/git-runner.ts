import { dirname, resolve } from 'node:path'
import { durationMs } from '../duration-param.ts'
import type { ActionServices } from '../action-services.ts'
import { CodedError, CodedNonRetryableError } from './action-errors.ts'
import { checkIdentity, checkRemote, checkRepoPath } from './git-args.ts'
import type { PathGuard } from './path-guard.ts'
import { allowedEnv, displayArgv, spawnCapped } from './spawn-capped.ts'

/**
 * Options every git invocation starts with: only the https, http, ssh, git and file transports
 * (`ext::` and every other helper denied), pathspecs read literally, no pager, no colour, no
 * fsmonitor hook.
 */
export const GIT_HARDENING: readonly string[] = Object.freeze([
  '--no-pager',
  '--literal-pathspecs',
  '-c',
  'protocol.allow=never',
  '-c',
  'protocol.https.allow=always',
  '-c',
  'protocol.http.allow=always',
  '-c',
  'protocol.ssh.allow=always',
  '-c',
  'protocol.git.allow=always',
  '-c',
  'protocol.file.allow=always',
  '-c',
  'protocol.ext.allow=never',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'color.ui=false',
])

/** A repository a git action works in, checked against the file roots. */
export interface GitRepo {
  /** Real directory the step named (git's working directory). */
  readonly cwd: string
  /** Top of the work tree (`git rev-parse --show-toplevel`), inside the roots. */
  readonly top: string
}

export interface GitResult {
  readonly exitCode: number | null
  readonly stdout: string
  readonly stderr: string
  readonly stdoutTruncated: boolean
}

export interface GitRunOptions {
  readonly signal: AbortSignal
  readonly stdin?: string
  /** Exit codes that are not failures (besides 0). */
  readonly okCodes?: readonly number[]
  readonly timeoutMs?: number
  /** Extra environment (commit identities). */
  readonly env?: Readonly<Record<string, string>>
}

/**
 * Runs the git CLI for the git actions: argument arrays through `spawnCapped`, the hardening
 * options above, `GIT_TERMINAL_PROMPT=0` (never wait for a password), `GIT_CONFIG_NOSYSTEM=1`,
 * `GIT_OPTIONAL_LOCKS=0` (reads never rewrite the index), `GIT_CEILING_DIRECTORIES` at the roots'
 * parents (git never discovers a repository above a root), and the `shell.env` allow-list.
 */
export class GitRunner {
  readonly #services: ActionServices
  readonly #guard: PathGuard

  constructor(services: ActionServices, guard: PathGuard) {
    this.#services = services
    this.#guard = guard
  }

  /** Resolves the `repo` parameter (default: the first root) and checks its work tree is inside the roots. */
  async open(action: string, repoParam: string | undefined, signal: AbortSignal): Promise<GitRepo> {
    const dir = await this.#guard.resolve(repoParam ?? '.', { action, label: 'repo', follow: true })
    if (!dir.stats?.isDirectory()) {
      throw new CodedNonRetryableError(
        'HS_ERR_FILE_NOT_FOUND',
        `${action}: repo ${JSON.stringify(dir.input)} is not an existing directory (${dir.absolute}).`,
      )
    }
    const probe = { cwd: dir.absolute, top: dir.absolute }
    const r = await this.run(probe, action, ['rev-parse', '--show-toplevel'], { signal, okCodes: [128] })
    if (r.exitCode !== 0) {
      throw new CodedNonRetryableError(
        'HS_ERR_GIT_FAILED',
        `${action}: repo ${JSON.stringify(dir.input)} (${dir.absolute}) is not inside a git work tree: ${r.stderr.trim()}`,
      )
    }
    const top = r.stdout.trim()
    if (!(await this.#guard.isInside(top))) {
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${action}: repo ${JSON.stringify(dir.input)} belongs to the work tree ${top}, outside the file roots (${this.#guard.describeRoots()}).`,
      )
    }
    return { cwd: dir.absolute, top }
  }

  /**
   * A remote parameter as git should get it: a configured remote's name, a checked URL, or a
   * local repository path inside the roots (as an absolute path).
   */
  async remote(repo: GitRepo, action: string, value: unknown, signal: AbortSignal): Promise<string> {
    const spec = checkRemote(action, 'remote', value)
    if (spec.kind === 'url') return spec.value
    if (spec.kind === 'name') {
      const names = await this.run(repo, action, ['remote'], { signal })
      if (names.stdout.split('\n').includes(spec.value)) return spec.value
    }
    const path = await this.#guard.resolve(resolve(repo.cwd, spec.value), {
      action,
      label: 'remote',
      follow: true,
    })
    if (!path.stats?.isDirectory()) {
      throw new CodedNonRetryableError(
        'HS_ERR_GIT_ARG_REFUSED',
        `${action}: remote ${JSON.stringify(spec.value)} is neither a configured remote nor a repository directory (${path.absolute}).`,
      )
    }
    return path.absolute
  }

  /** Runs `git <hardening> <args>` in `repo.cwd`; a code other than 0 and `okCodes` throws `HS_ERR_GIT_FAILED`. */
  async run(
    repo: GitRepo,
    action: string,
    args: readonly string[],
    options: GitRunOptions,
  ): Promise<GitResult> {
    const shell = this.#services.shell
    const realRoots = await this.#guard.realRoots()
    const env = {
      ...allowedEnv(shell.env, this.#services.env),
      ...options.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_OPTIONAL_LOCKS: '0',
      GIT_EDITOR: 'true',
      GIT_SEQUENCE_EDITOR: 'true',
      GIT_CEILING_DIRECTORIES: [...new Set(realRoots.map((r) => dirname(r)))].join(':'),
      LC_ALL: 'C',
    }
    const r = await spawnCapped({
      action,
      command: 'git',
      args: [...GIT_HARDENING, ...args],
      cwd: repo.cwd,
      env,
      stdin: options.stdin,
      timeoutMs: options.timeoutMs ?? shell.timeoutMs,
      killGraceMs: 2000,
      maxOutput: shell.maxOutput,
      signal: options.signal,
    })
    const argv = displayArgv('git', args)
    if (r.aborted) {
      const reason: unknown = options.signal.reason
      throw reason instanceof Error
        ? reason
        : new Error(`${action}: \`${argv}\` was stopped: ${String(reason)}`)
    }
    if (r.timedOut) {
      throw new CodedError(
        'HS_ERR_COMMAND_TIMEOUT',
        `${action}: \`${argv}\` was stopped after its timeout in ${repo.cwd}.`,
      )
    }
    const stdout = r.stdout.toString('utf8')
    const stderr = r.stderr.toString('utf8')
    if (r.exitCode !== 0 && !(r.exitCode !== null && options.okCodes?.includes(r.exitCode))) {
      const said = (r.stderrTail || stdout.trim().slice(-1000)).replace(/\s+/g, ' ')
      throw new CodedNonRetryableError(
        'HS_ERR_GIT_FAILED',
        `${action}: \`${argv}\` failed (exit ${r.exitCode ?? r.signal}) in ${repo.cwd}: ${said}`,
      )
    }
    return { exitCode: r.exitCode, stdout, stderr, stdoutTruncated: r.stdoutTruncated }
  }
}

/** A `timeout` parameter in milliseconds (undefined: the runner's default). */
export function timeoutOf(action: string, value: string | number | undefined): number | undefined {
  return durationMs(value, `${action}: timeout`, undefined)
}

/** The current branch, or null when HEAD is detached. */
export async function currentBranch(
  git: GitRunner,
  repo: GitRepo,
  action: string,
  signal: AbortSignal,
): Promise<string | null> {
  const r = await git.run(repo, action, ['symbolic-ref', '--quiet', '--short', 'HEAD'], {
    signal,
    okCodes: [1],
  })
  return r.exitCode === 0 ? r.stdout.trim() : null
}

/** The commit a revision names, or null when it names none (`rev-parse --verify --quiet`). */
export async function commitOf(
  git: GitRunner,
  repo: GitRepo,
  action: string,
  rev: string,
  signal: AbortSignal,
): Promise<string | null> {
  const r = await git.run(
    repo,
    action,
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
    {
      signal,
      okCodes: [1, 128],
    },
  )
  return r.exitCode === 0 ? r.stdout.trim() : null
}

/** Checks a list of pathspec parameters (`paths[0]`, ...) and returns them relative to `repo.cwd`. */
export function repoPaths(
  action: string,
  repo: GitRepo,
  list: readonly unknown[] | undefined,
  label: string,
): string[] {
  return (list ?? []).map((p, i) => checkRepoPath(action, `${label}[${i}]`, p, repo.cwd, repo.top))
}

/** `author_name` / `author_email` parameters, shared by the actions that make commits. */
export interface IdentityParams {
  author_name?: string
  author_email?: string
}

/**
 * The environment that makes git record `author_name <author_email>` as author and committer;
 * empty when neither is given (git's configuration decides). Both or neither.
 */
export function identityEnv(action: string, params: IdentityParams): Record<string, string> {
  if (params.author_name === undefined && params.author_email === undefined) return {}
  if (params.author_name === undefined || params.author_email === undefined) {
    throw new CodedNonRetryableError(
      'HS_ERR_ACTION_PARAMS',
      `${action}: pass author_name and author_email together.`,
    )
  }
  const name = checkIdentity(action, 'author_name', params.author_name)
  const email = checkIdentity(action, 'author_email', params.author_email)
  return {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
  }
}
