import { execFileSync } from 'node:child_process'
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { ActionDefinition } from '../../../src/core/action.ts'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import { fileActions } from '../../../src/actions/file-actions.ts'
import { gitActions } from '../../../src/actions/git-actions.ts'
import { shellActions } from '../../../src/actions/shell-actions.ts'
import { tempDir } from '../../helpers/tmp.ts'

/** What lies outside the roots; no action may read it or change it. */
export const SECRET = 'SECRET-outside-the-roots'
export const HARD = 'HARD-linked-from-outside'

/**
 * A real directory tree for the confinement tests:
 *
 * ```
 * base/            (a git repository itself: git must never discover it from inside a root)
 *   outside/       secret.txt, hard.txt, sub/
 *   rootx/         secret.txt   (its name starts with "root": a prefix check would let it in)
 *   root/          the first root: files, every kind of symlink, a hard link, a .git dir, a repo
 *   root2/         the second root: r2.txt
 * ```
 */
export interface Fixture {
  base: string
  root: string
  root2: string
  outside: string
  services: ActionServices
  actions: Record<string, ActionDefinition>
}

export function buildFixture(options: { maxBytes?: number } = {}): Fixture {
  const base = tempDir('homeostat-paths-')
  const root = join(base, 'root')
  const root2 = join(base, 'root2')
  const outside = join(base, 'outside')
  for (const dir of [root, root2, outside, join(outside, 'sub'), join(base, 'rootx')]) mkdirSync(dir)
  writeFileSync(join(outside, 'secret.txt'), SECRET)
  writeFileSync(join(outside, 'hard.txt'), HARD)
  writeFileSync(join(outside, 'sub', 'deep-secret.txt'), SECRET)
  writeFileSync(join(base, 'rootx', 'secret.txt'), SECRET)
  writeFileSync(join(root2, 'r2.txt'), 'second root')

  const at = (p: string): string => join(root, p)
  mkdirSync(at('sub/deeper'), { recursive: true })
  writeFileSync(at('file.txt'), 'inside')
  writeFileSync(at('sub/nested.txt'), 'nested')
  writeFileSync(at('sub/deeper/deep.txt'), 'deep')
  writeFileSync(at('%2e%2e%2fetc%2fpasswd'), 'literal percent name')
  writeFileSync(at('..foo'), 'dot-dot-prefixed name')
  writeFileSync(at('...'), 'three dots')
  writeFileSync(at('\u2025'), 'two dot leader')
  mkdirSync(at('\uff0e\uff0e'))
  writeFileSync(at('\uff0e\uff0e/inner.txt'), 'fullwidth dots dir')
  writeFileSync(at('caf\u00e9.txt'), 'nfc name')
  writeFileSync(at('.hidden'), 'hidden file')
  mkdirSync(at('repo-like/.git/hooks'), { recursive: true })
  writeFileSync(at('repo-like/.git/config'), '[core]\n')
  symlinkSync('../outside', at('link-out'))
  symlinkSync('../outside/secret.txt', at('link-out-file'))
  symlinkSync('/etc/passwd', at('link-abs-etc'))
  symlinkSync(join(outside, 'secret.txt'), at('link-abs-tmp'))
  symlinkSync('sub/nested.txt', at('link-in-file'))
  symlinkSync('sub', at('link-in-dir'))
  symlinkSync('chain-b', at('chain-a'))
  symlinkSync('../outside/secret.txt', at('chain-b'))
  symlinkSync('chain-in-b', at('chain-in-a'))
  symlinkSync('file.txt', at('chain-in-b'))
  symlinkSync('../outside/missing.txt', at('dangling-out'))
  symlinkSync('../outside/missing-dir', at('dangling-out-dir'))
  symlinkSync(join(outside, 'missing-abs.txt'), at('dangling-abs'))
  symlinkSync('sub/missing.txt', at('dangling-in'))
  symlinkSync('loop-b', at('loop-a'))
  symlinkSync('loop-a', at('loop-b'))
  symlinkSync('../root2', at('link-root2'))
  symlinkSync('.', at('link-self'))
  symlinkSync('..', at('link-parent'))
  symlinkSync('../rootx', at('link-rootx'))
  mkdirSync(at('dir-with-out-link'))
  symlinkSync('../../outside', at('dir-with-out-link/x'))
  linkSync(join(outside, 'hard.txt'), at('hard-out'))
  execFileSync('git', ['init', '-q', base])
  execFileSync('git', ['init', '-q', '-b', 'main', at('gitrepo')])

  const services: ActionServices = {
    ...DEFAULT_ACTION_SERVICES,
    files: { roots: [root, root2], maxBytes: options.maxBytes ?? 64 * 1024 },
    env: { PATH: process.env.PATH, HOME: base },
  }
  const actions: Record<string, ActionDefinition> = {}
  for (const a of [...fileActions(services), ...shellActions(services), ...gitActions(services)])
    actions[a.type] = a
  return { base, root, root2, outside, services, actions }
}

/**
 * Every entry under `dir` (not following symlinks) with its kind, content or link target and mode:
 * two equal snapshots mean nothing there was created, changed or removed.
 */
export function snapshot(dir: string, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (skip.includes(p)) continue
      const st = lstatSync(p)
      if (st.isSymbolicLink()) out[p] = `link ${readlinkSync(p)}`
      else if (st.isDirectory()) {
        out[p] = `dir ${st.mode}`
        walk(p)
      } else out[p] = `file ${st.mode} ${readFileSync(p).toString('base64')}`
    }
  }
  walk(dir)
  return out
}
