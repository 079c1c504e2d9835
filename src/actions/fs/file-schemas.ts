import type { ActionDefinition } from '../../core/action.ts'
import type { JsonSchema } from '../../core/workflow.ts'

/** JSON Schema fragments shared by the file actions' `params` and `output`. */

export const PATH_PARAM = {
  type: 'string',
  minLength: 1,
  description:
    'Path inside the file roots (files.roots); relative paths start at the first root. `..`, symlinks and absolute paths leading out are refused.',
} as const

export const ENCODING_PARAM = {
  enum: ['utf8', 'base64'],
  default: 'utf8',
  description: 'How `content` is encoded: `utf8` text, or `base64` for binary data.',
} as const

export const MKDIR_PARAM = {
  type: 'boolean',
  default: false,
  description: 'Create missing parent directories (inside the roots).',
} as const

export const LOCATION_OUTPUT = {
  path: { type: 'string', description: 'Path relative to its root, `/`-separated (`.` for the root).' },
  absolute: { type: 'string', description: 'Real absolute path (symlinks resolved).' },
  root: { type: 'string', description: 'The root that holds the path.' },
} as const

export const ENTRY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'Relative to its root (usable as the path of file.read).' },
    absolute: { type: 'string', description: 'Absolute path.' },
    name: { type: 'string', description: 'Last name of the path.' },
    type: {
      enum: ['file', 'directory', 'symlink', 'other'],
      description: 'Kind of entry; symlinks are not followed.',
    },
    size: { type: 'integer', description: 'Size in bytes (of the link itself for a symlink).' },
    modified: { type: 'string', description: 'Last modification time, ISO 8601.' },
  },
  required: ['path', 'absolute', 'name', 'type', 'size', 'modified'],
}

/** Decodes step content; base64 is checked strictly (Buffer.from would silently drop bad characters). */
export function decodeContent(content: string, encoding: 'utf8' | 'base64' | undefined): Buffer | undefined {
  if (encoding !== 'base64') return Buffer.from(content, 'utf8')
  const compact = content.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return undefined
  return Buffer.from(compact, 'base64')
}

/** A typed definition as the registry's untyped one (the engine validates params against `params` first). */
export function asAction<P>(action: ActionDefinition<P, unknown>): ActionDefinition {
  return action as unknown as ActionDefinition
}
