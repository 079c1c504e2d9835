import { link, rename, rm, rmdir, unlink } from 'node:fs/promises'
import { basename } from 'node:path'
import type { ActionDefinition, ActionPlan } from '../../core/action.ts'
import { CodedNonRetryableError, errnoOf } from './action-errors.ts'
import { asAction, LOCATION_OUTPUT, MKDIR_PARAM, PATH_PARAM } from './file-schemas.ts'
import type { GuardedPath, PathGuard, ResolveOptions } from './path-guard.ts'
import {
  checkReadable,
  checkWritable,
  ensureParent,
  formatBytes,
  kindOf,
  notFound,
  parentExists,
  readConfined,
  shown,
  writeReplacing,
} from './safe-file.ts'

interface TransferParams {
  from: string
  to: string
  overwrite?: boolean
  mkdir?: boolean
}
interface DeleteParams {
  path: string
  recursive?: boolean
  missing_ok?: boolean
}

const TRANSFER_PARAMS = {
  type: 'object',
  properties: {
    from: { ...PATH_PARAM, description: `Source. ${PATH_PARAM.description}` },
    to: {
      ...PATH_PARAM,
      description: `Destination; ending with / means "into this directory". ${PATH_PARAM.description}`,
    },
    overwrite: { type: 'boolean', default: false, description: 'Replace an existing destination file.' },
    mkdir: MKDIR_PARAM,
  },
  required: ['from', 'to'],
  additionalProperties: false,
} as const

const TRANSFER_OUTPUT = {
  type: 'object',
  properties: {
    ...LOCATION_OUTPUT,
    from: { type: 'string', description: 'Source, relative to its root.' },
    fromAbsolute: { type: 'string', description: 'Source, absolute.' },
    type: { enum: ['file', 'directory', 'symlink', 'other'], description: 'What was moved or copied.' },
    bytes: { type: 'integer', description: 'Bytes copied (file.copy), or the size of the moved file.' },
  },
  required: ['path', 'absolute', 'root', 'from', 'fromAbsolute', 'type', 'bytes'],
} as const

function refused(message: string): CodedNonRetryableError {
  return new CodedNonRetryableError('HS_ERR_PATH_REFUSED', message)
}

/**
 * `file.move`, `file.copy` and `file.delete`. Moves and deletes work on the entry itself (a
 * symlink is moved or removed, never its target); copies read the source through the guard and
 * write the destination like file.write. A root itself is never moved or deleted.
 */
export function fileMutations(guard: PathGuard, maxBytes: number): ActionDefinition[] {
  /** Resolves source and destination; `to` ending with `/` means "into that directory". */
  async function transfer(action: string, params: TransferParams, follow: boolean) {
    const fromAt: ResolveOptions = { action, label: 'from', follow, changes: action === 'file.move' }
    const toAt: ResolveOptions = { action, label: 'to', follow, changes: true }
    const from = await guard.resolve(params.from, fromAt)
    if (!from.stats) throw notFound(fromAt, from)
    if (from.isRoot)
      throw refused(`${action}: from ${shown(from)} is a file root (${from.root}); a root is never moved.`)
    let to = await guard.resolve(params.to, toAt)
    if (to.trailingSlash) {
      if (!to.stats?.isDirectory())
        throw notFound(toAt, to, ': a destination ending with / must be a directory')
      to = await guard.resolve(`${params.to}${basename(from.absolute)}`, toAt)
    }
    if (to.isRoot || to.stats?.isDirectory()) {
      throw new CodedNonRetryableError(
        'HS_ERR_FILE_EXISTS',
        `${action}: to ${shown(to)} is an existing directory; end it with / to put ${shown(from)} inside it.`,
      )
    }
    if (to.absolute === from.absolute)
      throw refused(`${action}: from and to are the same path (${to.absolute}).`)
    if (from.stats.isDirectory() && to.absolute.startsWith(`${from.absolute}/`)) {
      throw refused(
        `${action}: to ${shown(to)} (${to.absolute}) is inside the directory being moved, ${shown(from)}.`,
      )
    }
    const overwrite = params.overwrite ?? false
    const hasParent = await parentExists(toAt, to)
    const size = from.stats.isFile() ? from.stats.size : 0
    const mkdir = params.mkdir ?? false
    if (follow) {
      checkWritable(toAt, to, 0, maxBytes, { overwrite, mkdir, parentExists: hasParent })
    } else if (to.stats && !overwrite) {
      throw new CodedNonRetryableError(
        'HS_ERR_FILE_EXISTS',
        `${action}: to ${shown(to)} already exists (${to.absolute}); pass overwrite: true to replace it.`,
      )
    } else if (!hasParent && !mkdir) {
      throw notFound(toAt, to, `: its directory does not exist; pass mkdir: true to create it`)
    }
    return { from, to, fromAt, toAt, overwrite, hasParent, size }
  }

  const result = (from: GuardedPath, to: GuardedPath, bytes: number) => ({
    path: to.relative,
    absolute: to.absolute,
    root: to.root,
    from: from.relative,
    fromAbsolute: from.absolute,
    type: kindOf(from.stats!),
    bytes,
  })

  const move: ActionDefinition<TransferParams, unknown> = {
    type: 'file.move',
    description: 'Moves or renames a file, directory or symlink within the file roots.',
    params: TRANSFER_PARAMS,
    output: TRANSFER_OUTPUT,
    sideEffects: true,
    async execute(params, ctx) {
      const t = await transfer('file.move', params, false)
      if (!t.hasParent) await ensureParent(guard, t.to, t.toAt)
      ctx.signal.throwIfAborted()
      await moveEntry(t.from, t.to, t.overwrite, async () => {
        // Another file system: only regular files are carried over (copy, then remove the source).
        if (!t.from.stats!.isFile()) {
          throw refused(
            `file.move: ${shown(t.from)} is on another file system than ${shown(t.to)}; only files move across.`,
          )
        }
        const source = await guard.resolve(params.from, { ...t.fromAt, follow: true })
        const { data } = await readConfined(guard, source, t.fromAt, maxBytes, ctx.signal)
        await writeReplacing(guard, t.to, t.toAt, data, { overwrite: t.overwrite, signal: ctx.signal })
        await unlink(t.from.absolute)
      })
      return result(t.from, t.to, t.size)
    },
    async plan(params): Promise<ActionPlan> {
      const t = await transfer('file.move', params, false)
      return {
        summary: `move ${kindOf(t.from.stats!)} ${t.from.relative} to ${t.to.relative}${t.to.stats ? ' (replacing it)' : ''}`,
        details: result(t.from, t.to, t.size),
      }
    },
  }

  async function prepareCopy(params: TransferParams) {
    const t = await transfer('file.copy', params, true)
    checkReadable(t.fromAt, t.from, maxBytes)
    return t
  }

  const copy: ActionDefinition<TransferParams, unknown> = {
    type: 'file.copy',
    description: 'Copies a file within the file roots (directories are not copied).',
    params: TRANSFER_PARAMS,
    output: TRANSFER_OUTPUT,
    sideEffects: true,
    async execute(params, ctx) {
      const t = await prepareCopy(params)
      const { data } = await readConfined(guard, t.from, t.fromAt, maxBytes, ctx.signal)
      if (!t.hasParent) await ensureParent(guard, t.to, t.toAt)
      await writeReplacing(guard, t.to, t.toAt, data, { overwrite: t.overwrite, signal: ctx.signal })
      return result(t.from, t.to, data.length)
    },
    async plan(params): Promise<ActionPlan> {
      const t = await prepareCopy(params)
      return {
        summary: `copy ${t.from.relative} (${formatBytes(t.size)}) to ${t.to.relative}${t.to.stats ? ' (replacing it)' : ''}`,
        details: result(t.from, t.to, t.size),
      }
    },
  }

  async function prepareDelete(params: DeleteParams) {
    const where: ResolveOptions = { action: 'file.delete', label: 'path', follow: false, changes: true }
    const path = await guard.resolve(params.path, where)
    if (path.isRoot)
      throw refused(
        `file.delete: path ${shown(path)} is a file root (${path.root}); a root is never deleted.`,
      )
    if (!path.stats && !params.missing_ok)
      throw notFound(where, path, '; pass missing_ok: true to accept that')
    return path
  }

  const del: ActionDefinition<DeleteParams, unknown> = {
    type: 'file.delete',
    description: 'Deletes a file, symlink (not its target) or directory inside the file roots.',
    params: {
      type: 'object',
      properties: {
        path: PATH_PARAM,
        recursive: {
          type: 'boolean',
          default: false,
          description: 'Delete a directory with everything in it.',
        },
        missing_ok: {
          type: 'boolean',
          default: false,
          description: 'Succeed (deleted: false) when nothing is there.',
        },
      },
      required: ['path'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ...LOCATION_OUTPUT,
        deleted: { type: 'boolean', description: 'False when nothing was there (missing_ok).' },
        type: { enum: ['file', 'directory', 'symlink', 'other', 'none'], description: 'What was deleted.' },
      },
      required: ['path', 'absolute', 'root', 'deleted', 'type'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const path = await prepareDelete(params)
      const base = { path: path.relative, absolute: path.absolute, root: path.root }
      if (!path.stats) return { ...base, deleted: false, type: 'none' }
      ctx.signal.throwIfAborted()
      if (path.stats.isDirectory()) {
        if (params.recursive) {
          await rm(path.absolute, { recursive: true })
        } else {
          await rmdir(path.absolute).catch((err: unknown) => {
            if (errnoOf(err) !== 'ENOTEMPTY' && errnoOf(err) !== 'EEXIST') throw err
            throw new CodedNonRetryableError(
              'HS_ERR_ACTION_PARAMS',
              `file.delete: directory ${shown(path)} is not empty; pass recursive: true to delete it with its contents.`,
            )
          })
        }
      } else {
        await unlink(path.absolute)
      }
      return { ...base, deleted: true, type: kindOf(path.stats) }
    },
    async plan(params): Promise<ActionPlan> {
      const path = await prepareDelete(params)
      if (!path.stats)
        return { summary: `nothing to delete at ${path.relative}`, details: { absolute: path.absolute } }
      const kind = kindOf(path.stats)
      if (kind === 'directory' && !params.recursive) {
        return {
          summary: `delete empty directory ${path.relative} (fails if it is not empty)`,
          details: { absolute: path.absolute },
        }
      }
      return {
        summary: `delete ${kind} ${path.relative}${kind === 'directory' ? ' with everything in it' : ''}`,
        details: { path: path.relative, absolute: path.absolute, type: kind },
      }
    },
  }

  return [asAction(move), asAction(copy), asAction(del)]
}

/**
 * Renames `from` to `to`. Without `overwrite`, a file is moved with link + unlink so that a
 * destination created meanwhile is never replaced; `crossDevice` handles EXDEV.
 */
async function moveEntry(
  from: GuardedPath,
  to: GuardedPath,
  overwrite: boolean,
  crossDevice: () => Promise<void>,
): Promise<void> {
  try {
    if (!overwrite && !from.stats!.isDirectory()) {
      try {
        await link(from.absolute, to.absolute)
        await unlink(from.absolute)
        return
      } catch (err) {
        const code = errnoOf(err)
        if (code === 'EEXIST') {
          throw new CodedNonRetryableError(
            'HS_ERR_FILE_EXISTS',
            `file.move: to ${shown(to)} already exists (${to.absolute}); pass overwrite: true to replace it.`,
          )
        }
        if (code === 'EXDEV') throw err
      }
    }
    await rename(from.absolute, to.absolute)
  } catch (err) {
    if (errnoOf(err) !== 'EXDEV') throw err
    await crossDevice()
  }
}
