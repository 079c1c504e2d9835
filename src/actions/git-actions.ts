import type { ActionDefinition } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'
import { CodedNonRetryableError } from './fs/action-errors.ts'
import { asAction } from './fs/file-schemas.ts'
import { checkRepoPath, checkRevision, checkText } from './fs/git-args.ts'
import { gitBranchActions } from './fs/git-branch-actions.ts'
import { LOG_FORMAT, parseLog, parseNumstat, parseStatus } from './fs/git-parse.ts'
import { GitRunner, repoPaths, type GitRepo } from './fs/git-runner.ts'
import { HASH, PATHS_PARAM, REPO_PARAM, STATUS_FILE_SCHEMA } from './fs/git-schemas.ts'
import { gitStageActions } from './fs/git-stage-actions.ts'
import { gitSyncActions } from './fs/git-sync-actions.ts'
import { PathGuard } from './fs/path-guard.ts'

/** Default and largest `max_count` of git.log. */
export const LOG_DEFAULT_COUNT = 20
export const LOG_MAX_COUNT = 1000

interface StatusParams {
  repo?: string
}
interface LogParams {
  repo?: string
  ref?: string
  max_count?: number
  since?: string
  path?: string
}
interface DiffParams {
  repo?: string
  from?: string
  to?: string
  staged?: boolean
  paths?: string[]
}

/**
 * `git.status|log|diff|add|commit|push|pull|merge|checkout|branch` through the git CLI
 * (`GitRunner`: argument arrays, hardened transports, no prompts). Every repository, remote path
 * and pathspec is checked first (`git-args.ts`): option-like values, transport helpers and paths
 * leaving the work tree are refused with `HS_ERR_GIT_ARG_REFUSED` before git runs.
 * status, log and diff are read-only; the others have a `plan()` that makes the same checks.
 */
export function gitActions(services: ActionServices): ActionDefinition[] {
  const guard = new PathGuard(services.files.roots)
  const git = new GitRunner(services, guard)

  const paths = (action: string, repo: GitRepo, list: unknown[] | undefined): string[] =>
    repoPaths(action, repo, list, 'paths')

  const status: ActionDefinition<StatusParams, unknown> = {
    type: 'git.status',
    description: 'The branch and the changed, staged and untracked files of a repository (porcelain v2).',
    params: { type: 'object', properties: { repo: REPO_PARAM }, additionalProperties: false },
    output: {
      type: 'object',
      properties: {
        repo: { type: 'string', description: 'Top of the work tree.' },
        branch: { type: ['string', 'null'], description: 'Current branch; null when HEAD is detached.' },
        oid: {
          type: ['string', 'null'],
          description: 'Commit HEAD points at; null before the first commit.',
        },
        upstream: { type: ['string', 'null'], description: 'Upstream branch, if one is set.' },
        ahead: { type: 'integer', description: 'Commits ahead of the upstream.' },
        behind: { type: 'integer', description: 'Commits behind the upstream.' },
        clean: { type: 'boolean', description: 'True when nothing is changed, staged or untracked.' },
        files: {
          type: 'array',
          items: STATUS_FILE_SCHEMA,
          description: 'Changed, staged, untracked and conflicted files.',
        },
      },
      required: ['repo', 'branch', 'oid', 'upstream', 'ahead', 'behind', 'clean', 'files'],
    },
    sideEffects: false,
    async execute(params, ctx) {
      const repo = await git.open('git.status', params.repo, ctx.signal)
      const r = await git.run(
        repo,
        'git.status',
        ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'],
        {
          signal: ctx.signal,
        },
      )
      return { repo: repo.top, ...parseStatus(r.stdout) }
    },
  }

  const log: ActionDefinition<LogParams, unknown> = {
    type: 'git.log',
    description: 'Recent commits (hash, author, date, subject), optionally since a date or touching a path.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        ref: {
          type: 'string',
          minLength: 1,
          default: 'HEAD',
          description: 'Revision to start from (branch, tag, hash, `HEAD~3`).',
        },
        max_count: {
          type: 'integer',
          minimum: 1,
          maximum: LOG_MAX_COUNT,
          default: LOG_DEFAULT_COUNT,
          description: `Most commits returned (at most ${LOG_MAX_COUNT}).`,
        },
        since: {
          type: 'string',
          minLength: 1,
          description: 'Only commits after this date (`2024-05-01`, `1 week ago`, `yesterday`).',
        },
        path: {
          type: 'string',
          minLength: 1,
          description: 'Only commits touching this path (inside the repository).',
        },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        commits: {
          type: 'array',
          description: 'Newest first.',
          items: {
            type: 'object',
            properties: {
              hash: HASH,
              author: { type: 'string', description: 'Author name.' },
              email: { type: 'string', description: 'Author email.' },
              date: { type: 'string', description: 'Author date, ISO 8601.' },
              subject: { type: 'string', description: 'First line of the message.' },
            },
            required: ['hash', 'author', 'email', 'date', 'subject'],
          },
        },
        count: { type: 'integer', description: 'Number of commits returned.' },
        text: {
          type: 'string',
          description: 'One line per commit (`abc1234 2024-05-01 Ann: subject`), for prompts.',
        },
      },
      required: ['commits', 'count', 'text'],
    },
    sideEffects: false,
    async execute(params, ctx) {
      const action = 'git.log'
      const repo = await git.open(action, params.repo, ctx.signal)
      const ref = checkRevision(action, 'ref', params.ref ?? 'HEAD')
      const args = [
        'log',
        '-z',
        `--format=${LOG_FORMAT}`,
        `--max-count=${Math.min(params.max_count ?? LOG_DEFAULT_COUNT, LOG_MAX_COUNT)}`,
      ]
      if (params.since !== undefined) args.push(`--since=${checkText(action, 'since', params.since)}`)
      const head = await git.run(repo, action, ['rev-parse', '--verify', '--quiet', 'HEAD'], {
        signal: ctx.signal,
        okCodes: [1],
      })
      if (head.exitCode !== 0 && ref === 'HEAD') return { commits: [], count: 0, text: '' }
      args.push('--end-of-options', ref, '--')
      if (params.path !== undefined) args.push(checkRepoPath(action, 'path', params.path, repo.cwd, repo.top))
      const commits = parseLog((await git.run(repo, action, args, { signal: ctx.signal })).stdout)
      const text = commits
        .map((c) => `${c.hash.slice(0, 7)} ${c.date.slice(0, 10)} ${c.author}: ${c.subject}`)
        .join('\n')
      return { commits, count: commits.length, text }
    },
  }

  const diff: ActionDefinition<DiffParams, unknown> = {
    type: 'git.diff',
    description:
      'The diff of the work tree, the index (`staged`) or between two revisions, with the files changed.',
    params: {
      type: 'object',
      properties: {
        repo: REPO_PARAM,
        from: {
          type: 'string',
          minLength: 1,
          description: 'Compare from this revision (default: the index, or HEAD when staged).',
        },
        to: {
          type: 'string',
          minLength: 1,
          description: 'Compare to this revision (needs `from`; default: the work tree).',
        },
        staged: {
          type: 'boolean',
          default: false,
          description: 'Diff the index against HEAD (or `from`): what a commit would record.',
        },
        paths: PATHS_PARAM,
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        text: { type: 'string', description: 'Unified diff, at most shell.max_output bytes.' },
        truncated: { type: 'boolean', description: 'True when the diff text was cut at the cap.' },
        files: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              path: { type: 'string', description: 'Path relative to the top of the work tree.' },
              origPath: { type: 'string', description: 'Old path of a rename.' },
              added: { type: ['integer', 'null'], description: 'Lines added; null for binary files.' },
              deleted: { type: ['integer', 'null'], description: 'Lines deleted; null for binary files.' },
              binary: { type: 'boolean', description: 'True for a binary file.' },
            },
            required: ['path', 'added', 'deleted', 'binary'],
          },
          description: 'Files changed.',
        },
        insertions: { type: 'integer', description: 'Lines added in all files.' },
        deletions: { type: 'integer', description: 'Lines deleted in all files.' },
      },
      required: ['text', 'truncated', 'files', 'insertions', 'deletions'],
    },
    sideEffects: false,
    async execute(params, ctx) {
      const action = 'git.diff'
      const repo = await git.open(action, params.repo, ctx.signal)
      if (params.to !== undefined && params.from === undefined) {
        throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'git.diff: `to` needs `from`.')
      }
      const revs = [params.from, params.to]
        .filter((r) => r !== undefined)
        .map((r, i) => checkRevision(action, i === 0 ? 'from' : 'to', r))
      const base = [
        'diff',
        '--no-ext-diff',
        '--no-textconv',
        '--no-color',
        ...(params.staged ? ['--cached'] : []),
      ]
      const tail = ['--end-of-options', ...revs, '--', ...paths(action, repo, params.paths)]
      const text = await git.run(repo, action, [...base, ...tail], { signal: ctx.signal })
      const numstat = await git.run(repo, action, [...base, '--numstat', '-z', ...tail], {
        signal: ctx.signal,
      })
      const files = parseNumstat(numstat.stdout)
      return {
        text: text.stdout,
        truncated: text.stdoutTruncated,
        files,
        insertions: files.reduce((n, f) => n + (f.added ?? 0), 0),
        deletions: files.reduce((n, f) => n + (f.deleted ?? 0), 0),
      }
    },
  }

  return [
    asAction(status),
    asAction(log),
    asAction(diff),
    ...gitStageActions(git),
    ...gitSyncActions(git),
    ...gitBranchActions(git),
  ]
}
