import type { ActionDefinition, ActionPlan } from '../../core/action.ts'
import { CodedNonRetryableError } from './action-errors.ts'
import { asAction } from './file-schemas.ts'
import { checkRefName, checkRevision } from './git-args.ts'
import { commitOf, currentBranch, type GitRepo, type GitRunner } from './git-runner.ts'
import { BRANCH_PARAM, HASH, REPO_PARAM } from './git-schemas.ts'

interface CheckoutParams {
  repo?: string
  branch: string
  create?: boolean
  start_point?: string
}
interface BranchParams {
  repo?: string
  action?: 'list' | 'create' | 'delete'
  name?: string
  start_point?: string
  force?: boolean
  remotes?: boolean
}

interface BranchEntry {
  name: string
  hash: string
  current: boolean
  upstream: string | null
}

async function listBranches(
  git: GitRunner,
  repo: GitRepo,
  remotes: boolean,
  signal: AbortSignal,
): Promise<BranchEntry[]> {
  const refs = remotes ? ['refs/heads', 'refs/remotes'] : ['refs/heads']
  const r = await git.run(
    repo,
    'git.branch',
    ['for-each-ref', '--format=%(refname:short)%00%(objectname)%00%(HEAD)%00%(upstream:short)', ...refs],
    { signal },
  )
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [name = '', hash = '', head = '', upstream = ''] = line.split('\0')
      return { name, hash, current: head === '*', upstream: upstream === '' ? null : upstream }
    })
}

function gitFailed(message: string): CodedNonRetryableError {
  return new CodedNonRetryableError('HS_ERR_GIT_FAILED', message)
}

/** `git.checkout` (switch branches, optionally creating one) and `git.branch` (list, create, delete). */
export function gitBranchActions(git: GitRunner): ActionDefinition[] {
  async function prepareCheckout(params: CheckoutParams, signal: AbortSignal) {
    const action = 'git.checkout'
    const repo = await git.open(action, params.repo, signal)
    const branch = checkRefName(action, 'branch', params.branch)
    const start =
      params.start_point === undefined ? undefined : checkRevision(action, 'start_point', params.start_point)
    const existing = await commitOf(git, repo, action, `refs/heads/${branch}`, signal)
    if (params.create && existing !== null) {
      throw gitFailed(
        `git.checkout: branch ${JSON.stringify(branch)} already exists in ${repo.top}; drop create: true to switch to it.`,
      )
    }
    if (start !== undefined && (await commitOf(git, repo, action, start, signal)) === null) {
      throw gitFailed(`git.checkout: start_point ${JSON.stringify(start)} names no commit in ${repo.top}.`)
    }
    if (!params.create && existing === null) {
      const remote = await git.run(
        repo,
        action,
        ['for-each-ref', '--format=%(refname)', `refs/remotes/*/${branch}`],
        { signal },
      )
      if (remote.stdout.trim() === '') {
        throw gitFailed(
          `git.checkout: branch ${JSON.stringify(branch)} does not exist in ${repo.top}; pass create: true to make it.`,
        )
      }
    }
    return { action, repo, branch, start, previous: await currentBranch(git, repo, action, signal) }
  }

  const checkout: ActionDefinition<CheckoutParams, unknown> = {
    type: 'git.checkout',
    description: 'Switches to a branch (`git switch`), creating it first with `create`.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        branch: BRANCH_PARAM,
        create: {
          type: 'boolean',
          default: false,
          description: 'Create the branch (from `start_point`, default HEAD) and switch to it.',
        },
        start_point: {
          type: 'string',
          minLength: 1,
          description: 'Revision a new branch starts at (with `create`).',
        },
      },
      required: ['branch'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        branch: { type: 'string', description: 'Branch now checked out.' },
        previous: {
          type: ['string', 'null'],
          description: 'Branch checked out before (null when detached).',
        },
        created: { type: 'boolean', description: 'True when the branch was created.' },
        hash: HASH,
      },
      required: ['branch', 'previous', 'created', 'hash'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { action, repo, branch, start, previous } = await prepareCheckout(params, ctx.signal)
      const args = params.create
        ? ['switch', '--create', branch, ...(start ? [start] : [])]
        : ['switch', branch]
      await git.run(repo, action, args, { signal: ctx.signal })
      const hash = (await commitOf(git, repo, action, 'HEAD', ctx.signal)) ?? ''
      return { branch, previous, created: params.create ?? false, hash }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, branch, start, previous } = await prepareCheckout(params, ctx.signal)
      return {
        summary: `${params.create ? `create branch ${branch}${start ? ` at ${start}` : ''} and switch to it` : `switch to branch ${branch}`} (from ${previous ?? 'a detached HEAD'}) in ${repo.top}`,
        details: {
          repo: repo.top,
          branch,
          previous,
          create: params.create ?? false,
          startPoint: start ?? null,
        },
      }
    },
  }

  async function prepareBranch(params: BranchParams, signal: AbortSignal) {
    const action = 'git.branch'
    const repo = await git.open(action, params.repo, signal)
    const what = params.action ?? 'list'
    if (what === 'list') return { repo, what, name: '', start: undefined, hash: null }
    if (params.name === undefined) {
      throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', `git.branch: action ${what} needs a name.`)
    }
    const name = checkRefName(action, 'name', params.name)
    const start =
      params.start_point === undefined ? undefined : checkRevision(action, 'start_point', params.start_point)
    const hash = await commitOf(git, repo, action, `refs/heads/${name}`, signal)
    if (what === 'create') {
      if (hash !== null)
        throw gitFailed(`git.branch: branch ${JSON.stringify(name)} already exists in ${repo.top}.`)
      const at = await commitOf(git, repo, action, start ?? 'HEAD', signal)
      if (at === null)
        throw gitFailed(`git.branch: ${JSON.stringify(start ?? 'HEAD')} names no commit in ${repo.top}.`)
      return { repo, what, name, start, hash: at }
    }
    if (hash === null)
      throw gitFailed(`git.branch: branch ${JSON.stringify(name)} does not exist in ${repo.top}.`)
    if ((await currentBranch(git, repo, action, signal)) === name) {
      throw gitFailed(
        `git.branch: branch ${JSON.stringify(name)} is checked out in ${repo.top}; switch away before deleting it.`,
      )
    }
    return { repo, what, name, start, hash }
  }

  const branch: ActionDefinition<BranchParams, unknown> = {
    type: 'git.branch',
    description: 'Lists, creates or deletes branches.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        action: { enum: ['list', 'create', 'delete'], default: 'list', description: 'What to do.' },
        name: { ...BRANCH_PARAM, description: `Branch to create or delete. ${BRANCH_PARAM.description}` },
        start_point: {
          type: 'string',
          minLength: 1,
          description: 'Revision a created branch starts at (default HEAD).',
        },
        force: {
          type: 'boolean',
          default: false,
          description: 'Delete even if the branch is not merged (`-D`).',
        },
        remotes: { type: 'boolean', default: false, description: 'List remote-tracking branches too.' },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        action: { enum: ['list', 'create', 'delete'], description: 'What was done.' },
        current: { type: ['string', 'null'], description: 'Current branch (null when detached).' },
        branches: {
          type: 'array',
          description: 'Branches (list).',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'Short name (`main`, `origin/main`).' },
              hash: HASH,
              current: { type: 'boolean', description: 'True for the checked-out branch.' },
              upstream: { type: ['string', 'null'], description: 'Upstream branch, if set.' },
            },
            required: ['name', 'hash', 'current', 'upstream'],
          },
        },
        name: { type: 'string', description: 'Branch created or deleted.' },
        hash: HASH,
      },
      required: ['action', 'current'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const signal = ctx.signal
      const { repo, what, name, start, hash } = await prepareBranch(params, signal)
      if (what === 'create') {
        await git.run(repo, 'git.branch', ['branch', '--end-of-options', name, ...(start ? [start] : [])], {
          signal,
        })
      } else if (what === 'delete') {
        await git.run(repo, 'git.branch', ['branch', params.force ? '-D' : '-d', '--end-of-options', name], {
          signal,
        })
      }
      const current = await currentBranch(git, repo, 'git.branch', signal)
      if (what === 'list')
        return {
          action: what,
          current,
          branches: await listBranches(git, repo, params.remotes ?? false, signal),
        }
      return { action: what, current, name, hash: hash ?? '' }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, what, name, start, hash } = await prepareBranch(params, ctx.signal)
      if (what === 'list') {
        const branches = await listBranches(git, repo, params.remotes ?? false, ctx.signal)
        return {
          summary: `list ${branches.length} branch(es) in ${repo.top} (read-only)`,
          details: { repo: repo.top, branches },
        }
      }
      return {
        summary:
          what === 'create'
            ? `create branch ${name} at ${start ?? 'HEAD'} (${hash!.slice(0, 7)}) in ${repo.top}`
            : `delete branch ${name} (was ${hash!.slice(0, 7)})${params.force ? ' even if unmerged' : ''} in ${repo.top}`,
        details: { repo: repo.top, action: what, name, hash },
      }
    },
  }

  return [asAction(checkout), asAction(branch)]
}
