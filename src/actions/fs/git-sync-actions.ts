import type { ActionDefinition, ActionPlan } from '../../core/action.ts'
import { CodedNonRetryableError } from './action-errors.ts'
import { asAction } from './file-schemas.ts'
import { checkRefName, checkRevision } from './git-args.ts'
import { parsePush, splitNames } from './git-parse.ts'
import {
  commitOf,
  currentBranch,
  identityEnv,
  timeoutOf,
  type GitRepo,
  type GitRunner,
  type IdentityParams,
} from './git-runner.ts'
import {
  ALLOW_CONFLICTS_PARAM,
  BRANCH_PARAM,
  HASH,
  IDENTITY_PARAMS,
  REMOTE_PARAM,
  REPO_PARAM,
  TIMEOUT_PARAM,
} from './git-schemas.ts'

interface PushParams {
  repo?: string
  remote?: string
  branch?: string
  set_upstream?: boolean
  force_with_lease?: boolean
  timeout?: string | number
}
interface PullParams extends IdentityParams {
  repo?: string
  remote?: string
  branch?: string
  mode?: 'ff_only' | 'merge' | 'rebase'
  allow_conflicts?: boolean
  timeout?: string | number
}
interface MergeParams extends IdentityParams {
  repo?: string
  branch: string
  message?: string
  ff?: 'auto' | 'only' | 'never'
  allow_conflicts?: boolean
}

const MERGE_OUTPUT = {
  type: 'object',
  properties: {
    merged: {
      type: 'boolean',
      description:
        'True when the merge completed; false when conflicts were left in place (allow_conflicts).',
    },
    upToDate: { type: 'boolean', description: 'True when there was nothing to merge.' },
    fastForward: { type: 'boolean', description: 'True when HEAD simply moved forward.' },
    hash: HASH,
    conflicts: {
      type: 'array',
      items: { type: 'string' },
      description: 'Conflicting files (relative to the top).',
    },
  },
  required: ['merged', 'upToDate', 'fastForward', 'hash', 'conflicts'],
} as const

/** Files git left unmerged. */
async function unmerged(
  git: GitRunner,
  repo: GitRepo,
  action: string,
  signal: AbortSignal,
): Promise<string[]> {
  const r = await git.run(repo, action, ['diff', '--name-only', '--diff-filter=U', '-z'], { signal })
  return splitNames(r.stdout)
}

/**
 * After a merge (or a pull) that git refused: the conflicting files, either returned (the merge
 * stays in progress) or, by default, the merge is aborted and the step fails naming them.
 */
async function onMergeFailure(
  git: GitRunner,
  repo: GitRepo,
  action: string,
  what: string,
  allowConflicts: boolean,
  abort: readonly string[],
  failure: unknown,
  signal: AbortSignal,
): Promise<string[]> {
  const conflicts = await unmerged(git, repo, action, signal)
  if (conflicts.length === 0) throw failure
  if (allowConflicts) return conflicts
  await git.run(repo, action, abort, { signal })
  throw new CodedNonRetryableError(
    'HS_ERR_GIT_CONFLICT',
    `${action}: ${what} conflicts in ${conflicts.join(', ')}; the merge was aborted and ${repo.top} is as it was. ` +
      'Resolve the conflicts and commit, or pass allow_conflicts: true to leave them for a later step.',
  )
}

/** `git.push`, `git.pull`, `git.merge`. */
export function gitSyncActions(git: GitRunner): ActionDefinition[] {
  async function preparePush(params: PushParams, signal: AbortSignal) {
    const action = 'git.push'
    const repo = await git.open(action, params.repo, signal)
    const remote = await git.remote(repo, action, params.remote ?? 'origin', signal)
    const branch =
      params.branch === undefined
        ? await currentBranch(git, repo, action, signal)
        : checkRefName(action, 'branch', params.branch)
    if (branch === null) {
      throw new CodedNonRetryableError(
        'HS_ERR_ACTION_PARAMS',
        'git.push: HEAD is detached; pass the branch to push.',
      )
    }
    const hash = await commitOf(git, repo, action, `refs/heads/${branch}`, signal)
    if (hash === null) {
      throw new CodedNonRetryableError(
        'HS_ERR_GIT_FAILED',
        `git.push: branch ${JSON.stringify(branch)} does not exist in ${repo.top}.`,
      )
    }
    return { action, repo, remote, branch, hash }
  }

  const push: ActionDefinition<PushParams, unknown> = {
    type: 'git.push',
    description: 'Pushes a branch to a remote.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        remote: REMOTE_PARAM,
        branch: {
          ...BRANCH_PARAM,
          description: `Branch to push (default: the current one). ${BRANCH_PARAM.description}`,
        },
        set_upstream: {
          type: 'boolean',
          default: false,
          description: 'Make the remote branch the upstream (`-u`).',
        },
        force_with_lease: {
          type: 'boolean',
          default: false,
          description:
            'Replace the remote branch even if not a fast-forward, but only if it is where we last saw it.',
        },
        timeout: TIMEOUT_PARAM,
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        remote: { type: 'string', description: 'Remote pushed to (name, URL or path).' },
        branch: { type: 'string', description: 'Branch pushed.' },
        hash: HASH,
        upToDate: { type: 'boolean', description: 'True when the remote already had it.' },
        updates: {
          type: 'array',
          description: 'Ref updates as git reported them (`--porcelain`).',
          items: {
            type: 'object',
            properties: {
              flag: {
                type: 'string',
                description: '`*` new, ` ` fast-forward, `+` forced, `=` up to date, `!` rejected.',
              },
              from: { type: 'string', description: 'Local ref.' },
              to: { type: 'string', description: 'Remote ref.' },
              summary: { type: 'string', description: "git's summary (`abc..def`, `[new branch]`)." },
            },
            required: ['flag', 'from', 'to', 'summary'],
          },
        },
      },
      required: ['remote', 'branch', 'hash', 'upToDate', 'updates'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { action, repo, remote, branch, hash } = await preparePush(params, ctx.signal)
      const args = ['push', '--porcelain']
      if (params.set_upstream) args.push('--set-upstream')
      if (params.force_with_lease) args.push('--force-with-lease')
      args.push('--end-of-options', remote, `refs/heads/${branch}:refs/heads/${branch}`)
      const r = await git.run(repo, action, args, {
        signal: ctx.signal,
        timeoutMs: timeoutOf(action, params.timeout),
      })
      const updates = parsePush(r.stdout)
      return { remote, branch, hash, upToDate: updates.every((u) => u.flag === '='), updates }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, remote, branch, hash } = await preparePush(params, ctx.signal)
      return {
        summary: `push ${branch} (${hash.slice(0, 7)}) to ${remote}${params.force_with_lease ? ' with --force-with-lease' : ''}`,
        details: { repo: repo.top, remote, branch, hash },
      }
    },
  }

  async function preparePull(params: PullParams, signal: AbortSignal) {
    const action = 'git.pull'
    const repo = await git.open(action, params.repo, signal)
    const remote = await git.remote(repo, action, params.remote ?? 'origin', signal)
    const branch = params.branch === undefined ? undefined : checkRefName(action, 'branch', params.branch)
    return { action, repo, remote, branch, mode: params.mode ?? 'ff_only', env: identityEnv(action, params) }
  }

  const pull: ActionDefinition<PullParams, unknown> = {
    type: 'git.pull',
    description: 'Fetches from a remote and integrates (fast-forward only by default, or merge, or rebase).',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        remote: REMOTE_PARAM,
        branch: {
          ...BRANCH_PARAM,
          description: `Remote branch to pull (default: the upstream). ${BRANCH_PARAM.description}`,
        },
        mode: {
          enum: ['ff_only', 'merge', 'rebase'],
          default: 'ff_only',
          description:
            '`ff_only` fails unless HEAD can move forward; `merge` may create a merge commit; `rebase` replays local commits.',
        },
        allow_conflicts: ALLOW_CONFLICTS_PARAM,
        ...IDENTITY_PARAMS,
        timeout: TIMEOUT_PARAM,
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        updated: { type: 'boolean', description: 'True when HEAD moved.' },
        from: { type: ['string', 'null'], description: 'HEAD before (null in an empty repository).' },
        to: { type: ['string', 'null'], description: 'HEAD after.' },
        conflicts: {
          type: 'array',
          items: { type: 'string' },
          description: 'Conflicting files left in place (allow_conflicts).',
        },
      },
      required: ['updated', 'from', 'to', 'conflicts'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { action, repo, remote, branch, mode, env } = await preparePull(params, ctx.signal)
      const signal = ctx.signal
      const before = await commitOf(git, repo, action, 'HEAD', signal)
      const flag = mode === 'ff_only' ? '--ff-only' : mode === 'merge' ? '--no-rebase' : '--rebase'
      const args = ['pull', '--no-edit', flag, '--end-of-options', remote, ...(branch ? [branch] : [])]
      let conflicts: string[] = []
      try {
        await git.run(repo, action, args, { signal, env, timeoutMs: timeoutOf(action, params.timeout) })
      } catch (err) {
        const abort = mode === 'rebase' ? ['rebase', '--abort'] : ['merge', '--abort']
        conflicts = await onMergeFailure(
          git,
          repo,
          action,
          `pulling from ${remote}`,
          params.allow_conflicts ?? false,
          abort,
          err,
          signal,
        )
      }
      const after = await commitOf(git, repo, action, 'HEAD', signal)
      return { updated: before !== after, from: before, to: after, conflicts }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, remote, branch, mode } = await preparePull(params, ctx.signal)
      return {
        summary: `pull ${branch ?? 'the upstream branch'} from ${remote} into ${repo.top} (${mode.replace('_', ' ')})`,
        details: { repo: repo.top, remote, branch: branch ?? null, mode },
      }
    },
  }

  async function prepareMerge(params: MergeParams, signal: AbortSignal) {
    const action = 'git.merge'
    const repo = await git.open(action, params.repo, signal)
    const branch = checkRevision(action, 'branch', params.branch)
    const theirs = await commitOf(git, repo, action, branch, signal)
    if (theirs === null) {
      throw new CodedNonRetryableError(
        'HS_ERR_GIT_FAILED',
        `git.merge: ${JSON.stringify(branch)} names no commit in ${repo.top}.`,
      )
    }
    const ours = await commitOf(git, repo, action, 'HEAD', signal)
    const current = await currentBranch(git, repo, action, signal)
    return { action, repo, branch, theirs, ours, current, env: identityEnv(action, params) }
  }

  const merge: ActionDefinition<MergeParams, unknown> = {
    type: 'git.merge',
    description:
      'Merges a branch into the current one; conflicts fail the step naming the files (the merge is aborted) unless allowed.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        branch: {
          type: 'string',
          minLength: 1,
          description: 'Branch (or revision) to merge into the current branch.',
        },
        message: { type: 'string', minLength: 1, description: 'Merge commit message (default: git’s).' },
        ff: {
          enum: ['auto', 'only', 'never'],
          default: 'auto',
          description:
            '`auto` fast-forwards when possible; `only` fails otherwise; `never` always makes a merge commit.',
        },
        allow_conflicts: ALLOW_CONFLICTS_PARAM,
        ...IDENTITY_PARAMS,
      },
      required: ['branch'],
      additionalProperties: false,
    },
    output: MERGE_OUTPUT,
    sideEffects: true,
    async execute(params, ctx) {
      const { action, repo, branch, ours, env } = await prepareMerge(params, ctx.signal)
      const signal = ctx.signal
      const args = ['merge', '--no-edit']
      if (params.ff === 'only') args.push('--ff-only')
      if (params.ff === 'never') args.push('--no-ff')
      if (params.message !== undefined) args.push(`--message=${params.message}`)
      args.push('--end-of-options', branch)
      try {
        await git.run(repo, action, args, { signal, env })
      } catch (err) {
        const what = `merging ${branch} into ${repo.top}`
        const conflicts = await onMergeFailure(
          git,
          repo,
          action,
          what,
          params.allow_conflicts ?? false,
          ['merge', '--abort'],
          err,
          signal,
        )
        return { merged: false, upToDate: false, fastForward: false, hash: ours ?? '', conflicts }
      }
      const hash = (await commitOf(git, repo, action, 'HEAD', signal)) ?? ''
      const parents = (
        await git.run(repo, action, ['rev-list', '--parents', '-n', '1', 'HEAD'], { signal })
      ).stdout
        .trim()
        .split(' ')
      return {
        merged: true,
        upToDate: hash === ours,
        fastForward: hash !== ours && parents.length === 2,
        hash,
        conflicts: [],
      }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, branch, theirs, ours, current } = await prepareMerge(params, ctx.signal)
      return {
        summary: `merge ${branch} (${theirs.slice(0, 7)}) into ${current ?? 'the detached HEAD'}${ours ? ` (${ours.slice(0, 7)})` : ''} in ${repo.top}`,
        details: { repo: repo.top, branch, theirs, ours, into: current, ff: params.ff ?? 'auto' },
      }
    },
  }

  return [asAction(push), asAction(pull), asAction(merge)]
}
