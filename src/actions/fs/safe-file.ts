import type { Stats } from 'node:fs'
import { constants } from 'node:fs'
import { link, lstat, mkdir, open, realpath, rename, unlink, type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { CodedError, CodedNonRetryableError, errnoOf } from './action-errors.ts'
import type { GuardedPath, PathGuard, ResolveOptions } from './path-guard.ts'

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants

/** `"docs/a.md"` as the step gave it, for messages. */
export function shown(path: GuardedPath): string {
  return JSON.stringify(path.input)
}

/** `1.2 kB`, for plans and messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`
  return `${(n / (1024 * 1024)).toFixed(1)} MB`
}

/** The kind of a directory entry as the outputs name it. */
export function kindOf(stats: Stats): 'file' | 'directory' | 'symlink' | 'other' {
  if (stats.isSymbolicLink()) return 'symlink'
  if (stats.isDirectory()) return 'directory'
  if (stats.isFile()) return 'file'
  return 'other'
}

export function notFound(where: ResolveOptions, path: GuardedPath, extra = ''): CodedError {
  return new CodedError(
    'HS_ERR_FILE_NOT_FOUND',
    `${where.action}: ${where.label} ${shown(path)} does not exist (${path.absolute})${extra}.`,
  )
}

function badTarget(where: ResolveOptions, path: GuardedPath, why: string): CodedNonRetryableError {
  return new CodedNonRetryableError(
    'HS_ERR_ACTION_PARAMS',
    `${where.action}: ${where.label} ${shown(path)} ${why}.`,
  )
}

function tooLarge(
  where: ResolveOptions,
  path: GuardedPath,
  size: number,
  max: number,
): CodedNonRetryableError {
  return new CodedNonRetryableError(
    'HS_ERR_FILE_TOO_LARGE',
    `${where.action}: ${where.label} ${shown(path)} is ${formatBytes(size)}, over the ${formatBytes(max)} limit (files.max_bytes).`,
  )
}

/**
 * The checks a read makes before touching the file, shared by `execute` and `plan()`: it exists,
 * is a regular file (not a directory, FIFO or device) and is within `maxBytes`.
 */
export function checkReadable(where: ResolveOptions, path: GuardedPath, maxBytes: number): Stats {
  const stats = path.stats
  if (stats === undefined) throw notFound(where, path)
  if (stats.isDirectory()) throw badTarget(where, path, 'is a directory; use file.list to see what it holds')
  if (!stats.isFile()) throw badTarget(where, path, `is a ${kindOf(stats)}, not a regular file`)
  if (path.trailingSlash) throw badTarget(where, path, 'ends with / but is a file')
  if (stats.size > maxBytes) throw tooLarge(where, path, stats.size, maxBytes)
  return stats
}

/**
 * Reads a regular file inside the roots: opened with O_NOFOLLOW | O_NONBLOCK (a symlink swapped in
 * fails, a FIFO cannot block), re-verified after opening, and never more than `maxBytes` read.
 */
export async function readConfined(
  guard: PathGuard,
  path: GuardedPath,
  where: ResolveOptions,
  maxBytes: number,
  signal: AbortSignal,
): Promise<{ data: Buffer; stats: Stats }> {
  checkReadable(where, path, maxBytes)
  signal.throwIfAborted()
  const handle = await openChecked(path, where, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  try {
    await guard.verifyOpened(handle, path, where)
    const stats = await handle.stat()
    if (!stats.isFile()) throw badTarget(where, path, `is a ${kindOf(stats)}, not a regular file`)
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      signal.throwIfAborted()
      const buffer = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total))
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      chunks.push(buffer.subarray(0, bytesRead))
      total += bytesRead
      if (total > maxBytes) throw tooLarge(where, path, total, maxBytes)
    }
    return { data: Buffer.concat(chunks, total), stats }
  } finally {
    await handle.close()
  }
}

/** The checks before a write or append, shared with `plan()`: not a directory, not a special file, size. */
export function checkWritable(
  where: ResolveOptions,
  path: GuardedPath,
  bytes: number,
  maxBytes: number,
  options: { overwrite: boolean; mkdir: boolean; parentExists: boolean },
): void {
  const stats = path.stats
  if (path.isRoot || stats?.isDirectory()) throw badTarget(where, path, 'is a directory')
  if (path.trailingSlash) throw badTarget(where, path, 'ends with /, so it names a directory, not a file')
  if (stats && !stats.isFile()) throw badTarget(where, path, `is a ${kindOf(stats)}, not a regular file`)
  if (stats && !options.overwrite) {
    throw new CodedNonRetryableError(
      'HS_ERR_FILE_EXISTS',
      `${where.action}: ${where.label} ${shown(path)} already exists (${path.absolute}); pass overwrite: true to replace it.`,
    )
  }
  if (bytes > maxBytes) {
    throw new CodedNonRetryableError(
      'HS_ERR_FILE_TOO_LARGE',
      `${where.action}: content for ${shown(path)} is ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} limit (files.max_bytes).`,
    )
  }
  if (!options.parentExists && !options.mkdir) {
    throw notFound(
      where,
      path,
      `: its directory ${dirname(path.absolute)} does not exist; pass mkdir: true to create it`,
    )
  }
}

/** Whether the directory a path would be written into exists (false when it is missing). */
export async function parentExists(where: ResolveOptions, path: GuardedPath): Promise<boolean> {
  try {
    const st = await lstat(dirname(path.absolute))
    if (!st.isDirectory())
      throw badTarget(where, path, `has a parent that is not a directory (${dirname(path.absolute)})`)
    return true
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false
    throw err
  }
}

/**
 * Creates the missing parent directories of `path` and checks that none of them was redirected
 * out of the roots while being made.
 */
export async function ensureParent(
  guard: PathGuard,
  path: GuardedPath,
  where: ResolveOptions,
): Promise<void> {
  const parent = dirname(path.absolute)
  await mkdir(parent, { recursive: true })
  const real = await realpath(parent)
  if (real !== parent || !(await guard.isInside(real))) {
    throw new CodedNonRetryableError(
      'HS_ERR_PATH_REFUSED',
      `${where.action}: the directory of ${shown(path)} changed while it was being created (it now leads to ${real}, outside the file roots); nothing was written.`,
    )
  }
}

/**
 * Writes `data` as the new content of `path`: into a fresh temporary file beside it (O_EXCL, so
 * never through a symlink), verified inside the roots, then renamed over the target. The rename
 * replaces the name itself, so a symlink or a second hard link there never carries the write out of
 * the roots, and readers see the old or the new content, never half of it. Without `overwrite`
 * the final step is `link`, which fails rather than replace a file that appeared meanwhile.
 */
export async function writeReplacing(
  guard: PathGuard,
  path: GuardedPath,
  where: ResolveOptions,
  data: Buffer,
  options: { overwrite: boolean; signal: AbortSignal },
): Promise<void> {
  options.signal.throwIfAborted()
  const dir = dirname(path.absolute)
  const temp = join(dir, `.homeostat-${randomBytes(6).toString('hex')}.tmp`)
  const tempPath: GuardedPath = { ...path, absolute: temp, input: path.input, stats: undefined }
  const mode = path.stats ? path.stats.mode & 0o7777 : 0o666
  let handle: FileHandle | undefined
  let placed = false
  try {
    handle = await openChecked(tempPath, where, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
    await guard.verifyOpened(handle, tempPath, where)
    if (path.stats) await handle.chmod(mode)
    await handle.writeFile(data, { signal: options.signal })
    await handle.close()
    handle = undefined
    options.signal.throwIfAborted()
    if (options.overwrite) {
      await rename(temp, path.absolute)
    } else {
      try {
        await link(temp, path.absolute)
      } catch (err) {
        const code = errnoOf(err)
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
          // A file system without hard links: check, then rename (a narrow race, not an escape).
          if (!(await lstat(path.absolute).catch(() => undefined))) {
            await rename(temp, path.absolute)
            placed = true
            return
          }
        } else if (code !== 'EEXIST') {
          throw err
        }
        throw new CodedNonRetryableError(
          'HS_ERR_FILE_EXISTS',
          `${where.action}: ${where.label} ${shown(path)} already exists (${path.absolute}); pass overwrite: true to replace it.`,
        )
      }
    }
    placed = options.overwrite
  } finally {
    if (handle) await handle.close().catch(() => undefined)
    if (!placed) await unlink(temp).catch(() => undefined)
  }
}

/**
 * Appends `data` to `path` (created when missing and `create`): opened with O_APPEND | O_NOFOLLOW,
 * verified inside the roots, refused when the file has other hard links (the bytes would show up
 * under their names too, possibly outside the roots). Returns the new size.
 */
export async function appendConfined(
  guard: PathGuard,
  path: GuardedPath,
  where: ResolveOptions,
  data: Buffer,
  signal: AbortSignal,
): Promise<number> {
  const handle = await openChecked(
    path,
    where,
    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK,
    0o666,
  )
  try {
    await guard.verifyOpened(handle, path, where)
    const stats = await handle.stat()
    if (!stats.isFile()) throw badTarget(where, path, `is a ${kindOf(stats)}, not a regular file`)
    if (stats.nlink > 1) throw hardLinked(where, path, stats.nlink)
    signal.throwIfAborted()
    await handle.write(data)
    return (await handle.stat()).size
  } finally {
    await handle.close()
  }
}

export function hardLinked(where: ResolveOptions, path: GuardedPath, links: number): CodedNonRetryableError {
  return new CodedNonRetryableError(
    'HS_ERR_PATH_REFUSED',
    `${where.action}: ${where.label} ${shown(path)} (${path.absolute}) has ${links} hard links; appending would change the file under its other names too, possibly outside the file roots. Use file.write, which replaces only this name.`,
  )
}

async function openChecked(
  path: GuardedPath,
  where: ResolveOptions,
  flags: number,
  mode?: number,
): Promise<FileHandle> {
  try {
    return await open(path.absolute, flags, mode)
  } catch (err) {
    const code = errnoOf(err)
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new CodedNonRetryableError(
        'HS_ERR_PATH_REFUSED',
        `${where.action}: ${where.label} ${shown(path)} became a symlink while it was being opened; nothing was done.`,
      )
    }
    if (code === 'ENXIO') throw badTarget(where, path, 'is a FIFO with no reader, not a regular file')
    if (code === 'ENOENT') throw notFound(where, path)
    throw err
  }
}
