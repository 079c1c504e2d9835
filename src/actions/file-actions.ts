import type { ActionDefinition, ActionPlan } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'
import { CodedNonRetryableError } from './fs/action-errors.ts'
import { fileMutations } from './fs/file-mutations.ts'
import { checkPattern, listConfined, type ListedEntry } from './fs/file-list.ts'
import {
  asAction,
  decodeContent,
  ENCODING_PARAM,
  ENTRY_SCHEMA,
  LOCATION_OUTPUT,
  MKDIR_PARAM,
  PATH_PARAM,
} from './fs/file-schemas.ts'
import { PathGuard, type GuardedPath, type ResolveOptions } from './fs/path-guard.ts'
import {
  appendConfined,
  checkWritable,
  ensureParent,
  formatBytes,
  hardLinked,
  parentExists,
  readConfined,
  writeReplacing,
} from './fs/safe-file.ts'

/** Default and largest `max_entries` of file.list. */
export const LIST_DEFAULT_ENTRIES = 1000
export const LIST_MAX_ENTRIES = 10_000

interface ReadParams {
  path: string
  encoding?: 'utf8' | 'base64'
}
interface WriteParams {
  path: string
  content: string
  encoding?: 'utf8' | 'base64'
  mkdir?: boolean
  overwrite?: boolean
}
interface AppendParams {
  path: string
  content: string
  encoding?: 'utf8' | 'base64'
  mkdir?: boolean
  create?: boolean
}
interface ListParams {
  path?: string
  glob?: string
  recursive?: boolean
  hidden?: boolean
  max_entries?: number
}

function location(p: GuardedPath): { path: string; absolute: string; root: string } {
  return { path: p.relative, absolute: p.absolute, root: p.root }
}

function content(action: string, params: { content: string; encoding?: 'utf8' | 'base64' }): Buffer {
  const data = decodeContent(params.content, params.encoding)
  if (data === undefined) {
    throw new CodedNonRetryableError(
      'HS_ERR_ACTION_PARAMS',
      `${action}: content is not valid base64 (encoding: base64); encode it with base64, or use encoding: utf8.`,
    )
  }
  return data
}

/**
 * `file.read|write|append|move|copy|delete|list`, confined to `services.files.roots` by one
 * `PathGuard` (see its contract) and capped at `services.files.maxBytes` per read or write.
 * `file.read` and `file.list` are read-only; the others have a `plan()` making the same checks.
 */
export function fileActions(services: ActionServices): ActionDefinition[] {
  const guard = new PathGuard(services.files.roots)
  const maxBytes = services.files.maxBytes
  const at = (action: string, changes = false): ResolveOptions => ({
    action,
    label: 'path',
    follow: true,
    changes,
  })

  const read: ActionDefinition<ReadParams, unknown> = {
    type: 'file.read',
    description: 'Reads a file inside the file roots, as UTF-8 text or base64.',
    params: {
      type: 'object',
      properties: {
        path: PATH_PARAM,
        encoding: { ...ENCODING_PARAM, description: 'How `content` is returned: `utf8` text or `base64`.' },
      },
      required: ['path'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ...LOCATION_OUTPUT,
        content: { type: 'string', description: 'The file content in `encoding`.' },
        encoding: { enum: ['utf8', 'base64'], description: 'Encoding of `content`.' },
        bytes: { type: 'integer', description: 'Size of the file in bytes.' },
        modified: { type: 'string', description: 'Last modification time, ISO 8601.' },
      },
      required: ['path', 'absolute', 'root', 'content', 'encoding', 'bytes', 'modified'],
    },
    sideEffects: false,
    async execute(params, ctx) {
      const where = at('file.read')
      const path = await guard.resolve(params.path, where)
      const { data, stats } = await readConfined(guard, path, where, maxBytes, ctx.signal)
      const encoding = params.encoding ?? 'utf8'
      return {
        ...location(path),
        content: data.toString(encoding),
        encoding,
        bytes: data.length,
        modified: stats.mtime.toISOString(),
      }
    },
  }

  async function prepareWrite(action: string, params: WriteParams | AppendParams, overwrite: boolean) {
    const where = at(action, true)
    const path = await guard.resolve(params.path, where)
    const data = content(action, params)
    const mkdir = params.mkdir ?? false
    const hasParent = await parentExists(where, path)
    checkWritable(where, path, data.length, maxBytes, { overwrite, mkdir, parentExists: hasParent })
    return { where, path, data, hasParent }
  }

  const write: ActionDefinition<WriteParams, unknown> = {
    type: 'file.write',
    description:
      'Writes a file inside the file roots (atomically: a temporary file renamed over the target), optionally creating its directories.',
    params: {
      type: 'object',
      properties: {
        path: PATH_PARAM,
        content: { type: 'string', description: 'What to write, encoded as `encoding` says.' },
        encoding: ENCODING_PARAM,
        mkdir: MKDIR_PARAM,
        overwrite: {
          type: 'boolean',
          default: true,
          description: 'Replace an existing file; false fails instead.',
        },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ...LOCATION_OUTPUT,
        bytes: { type: 'integer', description: 'Bytes written.' },
        created: { type: 'boolean', description: 'True when the file did not exist before.' },
      },
      required: ['path', 'absolute', 'root', 'bytes', 'created'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const overwrite = params.overwrite ?? true
      const { where, path, data, hasParent } = await prepareWrite('file.write', params, overwrite)
      if (!hasParent) await ensureParent(guard, path, where)
      await writeReplacing(guard, path, where, data, { overwrite, signal: ctx.signal })
      return { ...location(path), bytes: data.length, created: path.stats === undefined }
    },
    async plan(params): Promise<ActionPlan> {
      const { path, data, hasParent } = await prepareWrite('file.write', params, params.overwrite ?? true)
      const replacing = path.stats ? ` (replacing ${formatBytes(path.stats.size)})` : ''
      return {
        summary: `write ${formatBytes(data.length)} to ${path.relative}${replacing}${hasParent ? '' : ', creating its directory'}`,
        details: {
          ...location(path),
          bytes: data.length,
          exists: path.stats !== undefined,
          createsDirectory: !hasParent,
        },
      }
    },
  }

  async function prepareAppend(params: AppendParams) {
    const prepared = await prepareWrite('file.append', params, true)
    const { where, path } = prepared
    if (!path.stats && params.create === false) {
      throw new CodedNonRetryableError(
        'HS_ERR_FILE_NOT_FOUND',
        `file.append: path ${JSON.stringify(path.input)} does not exist (${path.absolute}) and create is false.`,
      )
    }
    if (path.stats && path.stats.nlink > 1) throw hardLinked(where, path, path.stats.nlink)
    return prepared
  }

  const append: ActionDefinition<AppendParams, unknown> = {
    type: 'file.append',
    description: 'Appends to a file inside the file roots, creating it when missing.',
    params: {
      type: 'object',
      properties: {
        path: PATH_PARAM,
        content: { type: 'string', description: 'What to append, encoded as `encoding` says.' },
        encoding: ENCODING_PARAM,
        mkdir: MKDIR_PARAM,
        create: {
          type: 'boolean',
          default: true,
          description: 'Create the file when missing; false fails instead.',
        },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ...LOCATION_OUTPUT,
        bytes: { type: 'integer', description: 'Bytes appended.' },
        size: { type: 'integer', description: 'Size of the file afterwards.' },
        created: { type: 'boolean', description: 'True when the file did not exist before.' },
      },
      required: ['path', 'absolute', 'root', 'bytes', 'size', 'created'],
    },
    sideEffects: true,
    async execute(params, ctx) {
      const { where, path, data, hasParent } = await prepareAppend(params)
      if (!hasParent) await ensureParent(guard, path, where)
      const size = await appendConfined(guard, path, where, data, ctx.signal)
      return { ...location(path), bytes: data.length, size, created: path.stats === undefined }
    },
    async plan(params): Promise<ActionPlan> {
      const { path, data } = await prepareAppend(params)
      const before = path.stats?.size ?? 0
      return {
        summary: `append ${formatBytes(data.length)} to ${path.relative}${path.stats ? '' : ' (new file)'}`,
        details: {
          ...location(path),
          bytes: data.length,
          sizeAfter: before + data.length,
          exists: !!path.stats,
        },
      }
    },
  }

  async function prepareList(params: ListParams) {
    const where = at('file.list')
    const dir = await guard.resolve(params.path ?? '.', where)
    if (!dir.stats) throw new CodedNonRetryableError('HS_ERR_FILE_NOT_FOUND', notDir(dir, 'does not exist'))
    if (!dir.stats.isDirectory())
      throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', notDir(dir, 'is not a directory'))
    const recursive = params.recursive ?? false
    const pattern = params.glob ?? '*'
    checkPattern('file.list', pattern, dir.absolute)
    return { dir, recursive, pattern }
  }

  const list: ActionDefinition<ListParams, unknown> = {
    type: 'file.list',
    description:
      'Lists a directory inside the file roots, filtered by a glob, optionally recursive; symlinks are not followed.',
    params: {
      type: 'object',
      properties: {
        path: {
          ...PATH_PARAM,
          default: '.',
          description: `${PATH_PARAM.description} Default: the first root.`,
        },
        glob: {
          type: 'string',
          minLength: 1,
          default: '*',
          description:
            'Glob (`*`, `**`, `?`, `[ab]`, `{ts,js}`) matched against paths relative to `path`; when recursive and the glob has no `/`, against each name.',
        },
        recursive: {
          type: 'boolean',
          default: false,
          description: 'Descend into subdirectories (never through symlinks).',
        },
        hidden: {
          type: 'boolean',
          default: false,
          description: 'Include names starting with a dot (and descend into them).',
        },
        max_entries: {
          type: 'integer',
          minimum: 1,
          maximum: LIST_MAX_ENTRIES,
          default: LIST_DEFAULT_ENTRIES,
          description: `Most entries returned; \`truncated\` says when there were more. At most ${LIST_MAX_ENTRIES}.`,
        },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ...LOCATION_OUTPUT,
        entries: { type: 'array', items: ENTRY_SCHEMA, description: 'Matching entries, sorted by path.' },
        count: { type: 'integer', description: 'Number of entries returned.' },
        truncated: { type: 'boolean', description: 'True when more entries matched than were returned.' },
      },
      required: ['path', 'absolute', 'root', 'entries', 'count', 'truncated'],
    },
    sideEffects: false,
    async execute(params, ctx) {
      const { dir, recursive, pattern } = await prepareList(params)
      const maxEntries = Math.min(params.max_entries ?? LIST_DEFAULT_ENTRIES, LIST_MAX_ENTRIES)
      const { entries, truncated } = await listConfined(dir.root, dir.absolute, {
        action: 'file.list',
        pattern,
        recursive,
        hidden: params.hidden ?? false,
        maxEntries,
        signal: ctx.signal,
      })
      const sorted: ListedEntry[] = entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      return { ...location(dir), entries: sorted, count: sorted.length, truncated }
    },
  }

  return [
    asAction(read),
    asAction(write),
    asAction(append),
    ...fileMutations(guard, maxBytes),
    asAction(list),
  ]
}

function notDir(dir: GuardedPath, why: string): string {
  return `file.list: path ${JSON.stringify(dir.input)} ${why} (${dir.absolute}); list a directory inside the file roots.`
}
