import type { Stats } from 'node:fs'
import { lstat, readlink, realpath, stat, type FileHandle } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { CodedError, CodedNonRetryableError, errnoOf } from './action-errors.ts'

/** Longest path accepted, in characters (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096
/** Longest single name accepted, in UTF-8 bytes (NAME_MAX of every common Linux file system). */
export const MAX_NAME_BYTES = 255
/** Symlinks followed by hand (dangling links) before the path counts as a loop, as the kernel does. */
const MAX_SYMLINK_HOPS = 40

/** A path checked against the roots: where it really is, and under which root. */
export interface GuardedPath {
  /** The path as the step gave it. */
  readonly input: string
  /**
   * Real absolute path: every directory resolved through symlinks. With `follow` the last name is
   * resolved too; without it the last name is the entry itself (a symlink stays a symlink).
   */
  readonly absolute: string
  /** The real root that contains it. */
  readonly root: string
  /** Path relative to that root, `/`-separated; `.` for the root itself. */
  readonly relative: string
  readonly isRoot: boolean
  /** The input ended with `/`: the step means a directory. */
  readonly trailingSlash: boolean
  /** `lstat` of `absolute`; undefined when nothing is there yet. */
  readonly stats: Stats | undefined
}

export interface ResolveOptions {
  /** Action type, first word of every message (`file.read`). */
  readonly action: string
  /** Parameter name in messages (`path`, `from`, `to`, `cwd`, `repo`). */
  readonly label: string
  /**
   * Resolve a final symlink and require its target inside the roots (read, write, cwd). False
   * works on the entry itself (delete, the source and destination of a move).
   */
  readonly follow: boolean
  /**
   * The action changes what is at the path: refuse anything inside a `.git` directory, whose
   * config and hooks git runs as commands (use the git actions for repositories).
   */
  readonly changes?: boolean
}

/**
 * Confines file, shell and git actions to the configured roots.
 *
 * Contract: `resolve` accepts a path only if its real location (every existing component resolved
 * through symlinks, including a dangling final symlink followed by hand) lies inside the real path
 * of a root. Refused with `HS_ERR_PATH_REFUSED`, naming the path and the roots: empty paths, NUL and
 * control characters, backslashes, names over 255 bytes, paths over 4096 characters, `..` or
 * absolute paths leading out, symlinks (or symlink chains, or a symlinked parent directory) leading
 * out, symlink loops. Relative paths resolve against the first root. The check is repeated after a
 * file is opened (`verifyOpened`), so a parent directory swapped for a symlink between check and
 * open is caught; callers open with `O_NOFOLLOW` so a final component swapped for a symlink fails.
 */
export class PathGuard {
  /** The roots as configured (absolute). */
  readonly roots: readonly string[]
  #real: (string | undefined)[] = []

  constructor(roots: readonly string[]) {
    this.roots = Object.freeze(roots.map((r) => resolve(r)))
  }

  /** `/a, /b` for messages. */
  describeRoots(): string {
    return this.roots.length === 0 ? 'none configured' : this.roots.join(', ')
  }

  /** Checks `input` and returns where it really is; throws `HS_ERR_PATH_REFUSED` when it is not inside a root. */
  async resolve(input: unknown, options: ResolveOptions): Promise<GuardedPath> {
    const text = this.#validate(input, options)
    const first = this.roots[0]!
    const lexical = isAbsolute(text) ? resolve(text) : resolve(first, text)
    const trailingSlash = text.endsWith('/')
    const follow = options.follow || trailingSlash || lexical === '/' || this.roots.includes(lexical)
    let absolute: string
    try {
      absolute = follow
        ? await realOf(lexical, 0)
        : join(await realOf(dirname(lexical), 0), basename(lexical))
    } catch (err) {
      throw this.#resolveFailure(err, text, options)
    }
    const realRoots = await this.realRoots()
    const root = containing(realRoots, absolute)
    if (root === undefined) {
      const lexicallyInside = containing([...this.roots, ...realRoots], lexical) !== undefined
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${JSON.stringify(text)} is outside the file roots (${this.describeRoots()}): ` +
          `it resolves to ${absolute}${lexicallyInside ? ' through a symlink' : ''}. ` +
          `Use a path inside a root; relative paths start at ${first}.`,
      )
    }
    let stats: Stats | undefined
    try {
      stats = await lstat(absolute)
    } catch (err) {
      const code = errnoOf(err)
      if (code === 'ENOTDIR') {
        throw new CodedNonRetryableError(
          'HS_ERR_FILE_NOT_FOUND',
          `${options.action}: ${options.label} ${JSON.stringify(text)} goes through a file as if it were a directory (${absolute}).`,
        )
      }
      if (code !== 'ENOENT') throw err
    }
    const rel = relative(root, absolute)
    if (options.changes && rel.split('/').some((name) => name.toLowerCase() === '.git')) {
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${JSON.stringify(text)} is inside a .git directory (${absolute}); ` +
          'its config and hooks run as commands, so file actions never change it. Use the git actions.',
      )
    }
    return {
      input: text,
      absolute,
      root,
      relative: rel === '' ? '.' : rel,
      isRoot: rel === '',
      trailingSlash,
      stats,
    }
  }

  /** True when a real absolute path lies inside a real root. */
  async isInside(absolute: string): Promise<boolean> {
    return containing(await this.realRoots(), absolute) !== undefined
  }

  /**
   * Re-checks an open file: where the descriptor really points (`/proc/self/fd`, or an inode
   * comparison where there is no /proc) must still be inside the roots and be `path`.
   */
  async verifyOpened(handle: FileHandle, path: GuardedPath, options: ResolveOptions): Promise<void> {
    let opened: string | undefined
    try {
      opened = await readlink(`/proc/self/fd/${handle.fd}`)
    } catch {
      opened = undefined
    }
    if (opened !== undefined) {
      opened = opened.replace(/ \(deleted\)$/, '')
      if (opened === path.absolute || (await this.isInside(opened))) return
      throw swapped(options, path, opened)
    }
    const [held, named] = await Promise.all([handle.stat(), stat(path.absolute).catch(() => undefined)])
    if (named === undefined || held.dev !== named.dev || held.ino !== named.ino) {
      throw swapped(options, path, 'another file')
    }
  }

  #validate(input: unknown, options: ResolveOptions): string {
    const refuse = (why: string): never => {
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${why}; paths must name something inside the file roots (${this.describeRoots()}).`,
      )
    }
    if (this.roots.length === 0) {
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${typeof input === 'string' ? JSON.stringify(input) : ''} refused: no file roots are configured; set files.roots in homeostat.yaml.`,
      )
    }
    if (typeof input !== 'string')
      return refuse(`must be a string, not ${input === null ? 'null' : typeof input}`)
    const shown = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input)
    if (input === '') return refuse('is empty')
    if (input.includes('\0')) return refuse(`${shown} contains a NUL byte`)
    const control = firstControl(input)
    if (control !== undefined) {
      const hex = control.toString(16).padStart(4, '0').toUpperCase()
      return refuse(`${shown} contains the control character U+${hex}`)
    }
    if (input.includes('\\'))
      return refuse(`${shown} contains a backslash, which is not a path separator here (use /)`)
    if (input.length > MAX_PATH_LENGTH) return refuse(`${shown} is longer than ${MAX_PATH_LENGTH} characters`)
    for (const name of input.split('/')) {
      if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
        return refuse(`${shown} has a name longer than ${MAX_NAME_BYTES} bytes`)
      }
    }
    return input
  }

  #resolveFailure(err: unknown, text: string, options: ResolveOptions): Error {
    const code = errnoOf(err)
    if (code === 'ELOOP') {
      return new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${JSON.stringify(text)} goes through a symlink loop; paths must name something inside the file roots (${this.describeRoots()}).`,
      )
    }
    if (code === 'EACCES') {
      return new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${options.action}: ${options.label} ${JSON.stringify(text)}: permission denied while resolving it.`,
        { cause: err },
      )
    }
    return err instanceof Error ? err : new CodedError('HS_ERR_PATH_REFUSED', String(err))
  }

  /** The roots' real paths (a root that does not exist yet counts as itself). */
  async realRoots(): Promise<string[]> {
    const out: string[] = []
    for (const [i, root] of this.roots.entries()) {
      let real = this.#real[i]
      if (real === undefined) {
        try {
          real = await realpath(root)
          this.#real[i] = real
        } catch {
          real = root
        }
      }
      out.push(real)
    }
    return out
  }
}

/** The code of the first C0 control character or DEL in `text`, if any. */
export function firstControl(text: string): number | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return code
  }
  return undefined
}

function swapped(options: ResolveOptions, path: GuardedPath, opened: string): CodedNonRetryableError {
  return new CodedNonRetryableError(
    'HS_ERR_PATH_REFUSED',
    `${options.action}: ${options.label} ${JSON.stringify(path.input)} changed while it was being opened (it now leads to ${opened}, outside the file roots); nothing was done.`,
  )
}

/** The root that contains `absolute`, if any (a plain prefix check would let `/srv/root-evil` pass for `/srv/root`). */
function containing(roots: readonly string[], absolute: string): string | undefined {
  for (const root of roots) {
    if (root === '/' || absolute === root || absolute.startsWith(`${root}/`)) return root
  }
  return undefined
}

/**
 * The real location of an absolute, normalised path: `realpath` when it exists; otherwise the real
 * path of its deepest existing ancestor plus the missing names, following a dangling symlink by
 * hand (so a dangling link pointing out is seen as pointing out).
 */
async function realOf(absolute: string, hops: number): Promise<string> {
  if (hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error('too many symlinks'), { code: 'ELOOP' })
  try {
    return await realpath(absolute)
  } catch (err) {
    const code = errnoOf(err)
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
  }
  const missing: string[] = []
  let current = absolute
  for (;;) {
    let st: Stats | undefined
    try {
      st = await lstat(current)
    } catch (err) {
      const code = errnoOf(err)
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err
    }
    if (st !== undefined) {
      if (st.isSymbolicLink()) {
        try {
          return join(await realpath(current), ...missing)
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw err
          const target = resolve(dirname(current), await readlink(current))
          return realOf(join(target, ...missing), hops + 1)
        }
      }
      return join(await realpath(current), ...missing)
    }
    if (current === '/') return absolute
    missing.unshift(basename(current))
    current = dirname(current)
  }
}
