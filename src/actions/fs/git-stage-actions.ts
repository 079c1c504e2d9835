import type { ActionDefinition, ActionPlan } from '../../core/action.ts'
import { CodedNonRetryableError } from './action-errors.ts'
import { asAction } from './file-schemas.ts'
import { splitNames } from './git-parse.ts'
import { currentBranch, identityEnv, repoPaths, type GitRepo, type GitRunner } from './git-runner.ts'
import { HASH, IDENTITY_PARAMS, PATHS_PARAM, REPO_PARAM } from './git-schemas.ts'

interface AddParams {
  repo?: string
  paths?: string[]
  all?: boolean
}
interface CommitParams {
  repo?: string
  message: string
  files?: string[]
  all?: boolean
  author_name?: string
  author_email?: string
  allow_empty?: boolean
}

/**
 * `git.add` and `git.commit`. A commit with nothing staged (after staging `files` / `all`) is
 * refused with `HS_ERR_GIT_NOTHING_TO_COMMIT` unless `allow_empty`; the message goes to git on
 * stdin, never as an argument git could misread.
 */
export function gitStageActions(git: GitRunner): ActionDefinition[] {
  const paths = (action: string, repo: GitRepo, list: unknown[] | undefined, label = 'paths'): string[] =>
    repoPaths(action, repo, list, label)

  const staged = async (repo: GitRepo, action: string, signal: AbortSignal): Promise<string[]> =>
    splitNames(
      (await git.run(repo, action, ['diff', '--cached', '--name-only', '-z', '--no-renames'], { signal }))
        .stdout,
    )

  async function prepareAdd(params: AddParams, signal: AbortSignal) {
    const action = 'git.add'
    const repo = await git.open(action, params.repo, signal)
    const list = paths(action, repo, params.paths)
    if (!params.all && list.length === 0) {
      throw new CodedNonRetryableError(
        'HS_ERR_ACTION_PARAMS',
        'git.add: pass `paths` (one or more) or `all: true`.',
      )
    }
    return { repo, list }
  }

  const add: ActionDefinition<AddParams, unknown> = {
    type: 'git.add',
    description: 'Stages paths (or every change with `all`) for the next commit.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        paths: PATHS_PARAM,
        all: {
          type: 'boolean',
          default: false,
          description: 'Stage every change, new files and deletions included (`git add -A`).',
        },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        staged: {
          type: 'array',
          items: { type: 'string' },
          description: 'Every path staged now (relative to the top).',
        },
      },
      required: ['staged'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { repo, list } = await prepareAdd(params, ctx.signal)
      await git.run(repo, 'git.add', params.all ? ['add', '-A', '--', ...list] : ['add', '--', ...list], {
        signal: ctx.signal,
      })
      return { staged: await staged(repo, 'git.add', ctx.signal) }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { repo, list } = await prepareAdd(params, ctx.signal)
      return {
        summary: params.all ? `stage every change in ${repo.top}` : `stage ${list.join(', ')} in ${repo.top}`,
        details: { repo: repo.top, paths: list, all: params.all ?? false },
      }
    },
  }

  async function prepareCommit(params: CommitParams, signal: AbortSignal) {
    const action = 'git.commit'
    const repo = await git.open(action, params.repo, signal)
    if (params.message.trim() === '') {
      throw new CodedNonRetryableError(
        'HS_ERR_ACTION_PARAMS',
        'git.commit: message is empty; git needs a commit message.',
      )
    }
    const files = paths(action, repo, params.files, 'files')
    const env = identityEnv(action, params)
    return { action, repo, files, env }
  }

  function nothingToCommit(repo: GitRepo): CodedNonRetryableError {
    return new CodedNonRetryableError(
      'HS_ERR_GIT_NOTHING_TO_COMMIT',
      `git.commit: nothing to commit in ${repo.top} (no staged changes); stage files with \`files\` or git.add, or pass allow_empty: true.`,
    )
  }

  const commit: ActionDefinition<CommitParams, unknown> = {
    type: 'git.commit',
    description:
      'Records staged changes (after staging `files`, or every tracked change with `all`) as a commit.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        message: { type: 'string', minLength: 1, description: 'Commit message (first line: the subject).' },
        files: { ...PATHS_PARAM, description: `Stage these first. ${PATHS_PARAM.description}` },
        all: {
          type: 'boolean',
          default: false,
          description: 'Stage every change to tracked files first (`commit -a`).',
        },
        ...IDENTITY_PARAMS,
        allow_empty: {
          type: 'boolean',
          default: false,
          description: 'Commit even when nothing is staged; otherwise that fails.',
        },
      },
      required: ['message'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        hash: HASH,
        branch: {
          type: ['string', 'null'],
          description: 'Branch the commit is on; null when HEAD is detached.',
        },
        subject: { type: 'string', description: 'First line of the message.' },
        files: { type: 'array', items: { type: 'string' }, description: 'Paths the commit changed.' },
      },
      required: ['hash', 'branch', 'subject', 'files'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { action, repo, files, env } = await prepareCommit(params, ctx.signal)
      const signal = ctx.signal
      if (files.length > 0) await git.run(repo, action, ['add', '--', ...files], { signal })
      if (params.all) await git.run(repo, action, ['add', '-u'], { signal })
      if (!params.allow_empty && (await staged(repo, action, signal)).length === 0)
        throw nothingToCommit(repo)
      const args = [
        'commit',
        '--file=-',
        '--cleanup=whitespace',
        ...(params.allow_empty ? ['--allow-empty'] : []),
      ]
      await git.run(repo, action, args, { signal, stdin: params.message, env })
      const hash = (await git.run(repo, action, ['rev-parse', 'HEAD'], { signal })).stdout.trim()
      const changed = await git.run(
        repo,
        action,
        ['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', '--root', 'HEAD'],
        { signal },
      )
      return {
        hash,
        branch: await currentBranch(git, repo, action, signal),
        subject: params.message.trim().split('\n')[0]!,
        files: splitNames(changed.stdout),
      }
    },
    async plan(params, ctx): Promise<ActionPlan> {
      const { action, repo, files } = await prepareCommit(params, ctx.signal)
      const already = await staged(repo, action, ctx.signal)
      const tracked = params.all
        ? splitNames(
            (await git.run(repo, action, ['diff', '--name-only', '-z'], { signal: ctx.signal })).stdout,
          )
        : []
      const would = [...new Set([...already, ...files, ...tracked])].sort()
      if (would.length === 0 && !params.allow_empty) throw nothingToCommit(repo)
      const branch = await currentBranch(git, repo, action, ctx.signal)
      return {
        summary: `commit ${would.length} file(s) on ${branch ?? 'a detached HEAD'} in ${repo.top}: ${params.message.trim().split('\n')[0]}`,
        details: { repo: repo.top, branch, files: would, message: params.message },
      }
    },
  }

  return [asAction(add), asAction(commit)]
}
