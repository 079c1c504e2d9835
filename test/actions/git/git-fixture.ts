import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ActionDefinition } from '../../../src/core/action.ts'
import { DEFAULT_ACTION_SERVICES } from '../../../src/actions/action-services.ts'
import { gitActions } from '../../../src/actions/git-actions.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { tempDir } from '../../helpers/tmp.ts'

export const AUTHOR = { author_name: 'Ann Author', author_email: 'ann@example.com' }

/**
 * A real repository for the git action tests: `root/repo` on branch main with one commit
 * (README.md), a bare `root/remote.git` it can push to, and `outside/` beyond the roots. HOME
 * points at an empty directory, so no global git configuration (identity, aliases) applies.
 */
export interface GitFixture {
  base: string
  root: string
  repo: string
  remote: string
  outside: string
  actions: Record<string, ActionDefinition>
  /** Runs the git CLI in the repository (test set-up and checks), with a fixed identity. */
  git(...args: string[]): string
  run(type: string, params: Record<string, unknown>): Promise<Record<string, unknown>>
  plan(
    type: string,
    params: Record<string, unknown>,
  ): Promise<{ summary: string; details?: Record<string, unknown> }>
  write(path: string, content: string): void
}

export function gitFixture(): GitFixture {
  const base = tempDir('homeostat-git-')
  const root = join(base, 'root')
  const outside = join(base, 'outside')
  const home = join(base, 'home')
  const repo = join(root, 'repo')
  const remote = join(root, 'remote.git')
  for (const d of [root, outside, home]) mkdirSync(d)
  const env = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' }
  const cli = (cwd: string, args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=Setup', '-c', 'user.email=setup@example.com', ...args], {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  cli(root, ['init', '-q', '-b', 'main', repo])
  cli(root, ['init', '-q', '--bare', '-b', 'main', remote])
  writeFileSync(join(repo, 'README.md'), '# readme\n')
  cli(repo, ['add', 'README.md'])
  cli(repo, ['commit', '-q', '-m', 'initial'])
  const services = {
    ...DEFAULT_ACTION_SERVICES,
    files: { roots: [root], maxBytes: 1024 * 1024 },
    env,
  }
  const actions: Record<string, ActionDefinition> = {}
  for (const a of gitActions(services)) actions[a.type] = a
  return {
    base,
    root,
    repo,
    remote,
    outside,
    actions,
    git: (...args) => cli(repo, args),
    run: async (type, params) =>
      (await runAction(actions[type]!, { repo: 'repo', ...params })) as Record<string, unknown>,
    plan: async (type, params) =>
      await actions[type]!.plan!({ repo: 'repo', ...params } as never, actionContext()),
    write: (path, content) => {
      mkdirSync(join(repo, path, '..'), { recursive: true })
      writeFileSync(join(repo, path), content)
    },
  }
}
