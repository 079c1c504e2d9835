import type { Dirent } from 'node:fs'
import { lstat, readdir, realpath } from 'node:fs/promises'
import { join, matchesGlob, relative } from 'node:path'
import { CodedNonRetryableError } from './action-errors.ts'
import { kindOf } from './safe-file.ts'

/** Most directory entries a recursive listing looks at before it stops (and says `truncated`). */
export const MAX_VISITED = 100_000

export interface ListedEntry {
  /** Relative to the entry's root, `/`-separated: feed it to file.read as it is (same root). */
  readonly path: string
  readonly absolute: string
  readonly name: string
  readonly type: 'file' | 'directory' | 'symlink' | 'other'
  /** Bytes (of the link itself for a symlink). */
  readonly size: number
  /** Last modification, ISO 8601. */
  readonly modified: string
}

export interface ListOptions {
  readonly action: string
  /** Glob matched against the path relative to the listed directory (name only when recursive and the glob has no `/`). */
  readonly pattern: string
  readonly recursive: boolean
  readonly hidden: boolean
  readonly maxEntries: number
  readonly signal: AbortSignal
}

/** Refuses glob patterns that point out of the listed directory: absolute, `..` segments, NUL, backslashes. */
export function checkPattern(action: string, pattern: string, dir: string): void {
  const refuse = (why: string): never => {
    throw new CodedNonRetryableError(
      'HS_ERR_PATH_REFUSED',
      `${action}: glob ${JSON.stringify(pattern)} ${why} (listing ${dir}).`,
    )
  }
  if (pattern === '') refuse('is empty')
  if (pattern.includes('\0')) refuse('contains a NUL byte')
  if (pattern.startsWith('/')) refuse('is absolute; globs match paths inside the listed directory')
  if (pattern.split('/').includes('..'))
    refuse('contains `..`; globs match paths inside the listed directory')
  if (pattern.includes('\\'))
    refuse('contains a backslash (escapes are not supported; use [*] for a literal *)')
}

/**
 * Walks `dir` (a real directory inside the roots) without following symlinks: a symlinked
 * directory is listed as a `symlink` entry and never descended into, and each directory is
 * re-checked with realpath before it is read, so the walk cannot leave `dir`. Hidden names (a
 * leading `.`) are skipped unless `hidden`. Stops after `maxEntries` matches or `MAX_VISITED`
 * entries looked at, and says so with `truncated`.
 */
export async function listConfined(
  root: string,
  dir: string,
  options: ListOptions,
): Promise<{ entries: ListedEntry[]; truncated: boolean }> {
  const byName = options.recursive && !options.pattern.includes('/')
  const entries: ListedEntry[] = []
  const pending: string[] = [dir]
  let visited = 0
  while (pending.length > 0) {
    options.signal.throwIfAborted()
    const current = pending.shift()!
    if ((await realpath(current)) !== current) continue
    let children: Dirent[]
    try {
      children = await readdir(current, { withFileTypes: true })
    } catch {
      continue
    }
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const subdirs: string[] = []
    for (const child of children) {
      if (!options.hidden && child.name.startsWith('.')) continue
      if (++visited > MAX_VISITED) return { entries, truncated: true }
      const absolute = join(current, child.name)
      const rel = relative(dir, absolute)
      if (matches(byName ? child.name : rel, options.pattern, options.hidden)) {
        if (entries.length === options.maxEntries) return { entries, truncated: true }
        const stats = await lstat(absolute).catch(() => undefined)
        if (stats) {
          entries.push({
            path: relative(root, absolute),
            absolute,
            name: child.name,
            type: kindOf(stats),
            size: stats.size,
            modified: stats.mtime.toISOString(),
          })
        }
      }
      if (options.recursive && child.isDirectory()) subdirs.push(absolute)
    }
    pending.unshift(...subdirs)
  }
  return { entries, truncated: false }
}

/** `path.matchesGlob`, where `hidden` also lets `*` and `**` match names that start with a dot. */
function matches(candidate: string, pattern: string, hidden: boolean): boolean {
  if (matchesGlob(candidate, pattern)) return true
  return hidden && matchesGlob(candidate.replace(/(^|\/)\./g, '$1'), pattern)
}
