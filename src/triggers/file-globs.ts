import { isAbsolute, matchesGlob, posix, resolve, sep } from 'node:path'

/**
 * The path globs of a `file_change` trigger, pure. chokidar 5 watches directories, not globs, so
 * each glob is split into the directory it cannot leave (its base: the segments before the first one
 * with a glob character) and the pattern that `path.matchesGlob` tests, absolute, with `/`.
 */

const GLOB_CHARS = /[*?[\]{}]/

/** A path with `/` separators. */
export function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/')
}

/** The directory a glob cannot leave: `/p/src/**\/*.ts` → `/p/src`; `/p/docs/a.md` → `/p/docs`. */
export function globBase(pattern: string): string {
  const fixed: string[] = []
  for (const segment of pattern.split('/').slice(0, -1)) {
    if (GLOB_CHARS.test(segment)) break
    fixed.push(segment)
  }
  return fixed.join('/') || (pattern.startsWith('/') ? '/' : '.')
}

/** Why a written glob is refused, or undefined: `..` segments would leave the watched base. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.includes('\0')) return 'contains a NUL character'
  if (pattern.includes('\\')) return 'contains a backslash (write paths with /)'
  if (pattern.split('/').includes('..'))
    return 'contains a `..` segment (write the path from the base directory)'
  return undefined
}

/** Stand-in for a leading `.` of a segment, so `matchesGlob` (which skips dotfiles) can match them. */
const DOT = '\uE000'
const LEADING_DOT = /(^|\/)\.(?=[^/.]|\.[^/])/g

export interface FileGlobs {
  /** Absolute directories to watch, deduplicated, none inside another. */
  readonly bases: readonly string[]
  /** Whether an absolute path is reported: under a glob, not ignored, not a dotfile (unless allowed). */
  matches(path: string): boolean
  /**
   * Whether chokidar may skip this path altogether: an ignored directory or dotfile, or anything
   * outside the bases that does not lead to one (a base that does not exist yet is watched from its
   * nearest existing ancestor).
   */
  prune(path: string): boolean
  /** `path` relative to the base directory, with `/`. */
  relative(path: string): string
}

/**
 * Compiles `paths` and `ignore` (relative to `baseDir`, or absolute). With `dotfiles: false`, a
 * path with a segment starting with `.` below its glob's base is never reported.
 */
export function compileGlobs(
  paths: readonly string[],
  ignore: readonly string[],
  baseDir: string,
  dotfiles: boolean,
): FileGlobs {
  const base = toPosix(resolve(baseDir))
  const absolute = (p: string): string => (isAbsolute(p) ? toPosix(p) : posix.join(base, p))
  const include = paths.map((p) => {
    const pattern = absolute(p)
    return { pattern: dotfiles ? pattern.replace(LEADING_DOT, `$1${DOT}`) : pattern, base: globBase(pattern) }
  })
  const excluded = ignore.map((p) => {
    const pattern = absolute(p)
    const text = pattern.replace(LEADING_DOT, `$1${DOT}`)
    // `dir/**` also covers `dir` itself, so the directory is not even walked
    return { pattern: text, dir: text.endsWith('/**') ? text.slice(0, -3) : undefined }
  })
  const bases = [...new Set(include.map((g) => g.base))]
    .sort()
    .filter((b, i, all) => !all.slice(0, i).some((outer) => b === outer || b.startsWith(`${outer}/`)))
  const belowBase = (path: string, globBaseDir: string): string =>
    path === globBaseDir ? '' : path.slice(globBaseDir.length + 1)
  const hasDotSegment = (rest: string): boolean => rest.split('/').some((s) => s.startsWith('.'))
  const isIgnored = (path: string): boolean => {
    const text = path.replace(LEADING_DOT, `$1${DOT}`)
    return excluded.some((e) => matchesGlob(text, e.pattern) || (e.dir !== undefined && text === e.dir))
  }
  return {
    bases,
    matches(path) {
      const p = toPosix(path)
      if (isIgnored(p)) return false
      return include.some((g) => {
        if (!(p === g.base || p.startsWith(`${g.base}/`))) return false
        if (!dotfiles && hasDotSegment(belowBase(p, g.base))) return false
        return matchesGlob(dotfiles ? p.replace(LEADING_DOT, `$1${DOT}`) : p, g.pattern)
      })
    },
    prune(path) {
      const p = toPosix(path)
      const owner = include.find((g) => p === g.base || p.startsWith(`${g.base}/`))
      // outside every base: only the directories on the way to one are walked
      if (owner === undefined) return !include.some((g) => g.base.startsWith(`${p}/`))
      if (isIgnored(p)) return true
      return !dotfiles && hasDotSegment(belowBase(p, owner.base))
    },
    relative(path) {
      const p = toPosix(path)
      return p.startsWith(`${base}/`) ? p.slice(base.length + 1) : p
    },
  }
}
