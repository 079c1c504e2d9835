import { DURATION_SCHEMA } from '../duration-param.ts'
/** JSON Schema fragments shared by the git actions. */

export const REPO_PARAM = {
  type: 'string',
  minLength: 1,
  default: '.',
  description:
    'Directory in a git work tree inside the file roots; relative to the first root. Default: the first root.',
} as const

export const PATHS_PARAM = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description:
    'Paths inside the repository (relative to `repo`), read literally (no globs); a leading `-` is refused.',
} as const

export const REMOTE_PARAM = {
  type: 'string',
  minLength: 1,
  default: 'origin',
  description:
    'A configured remote (`origin`), an https/http/ssh/git URL, `user@host:path`, or a repository path inside the file roots. `ext::`, `file://` and option-like values are refused.',
} as const

export const BRANCH_PARAM = {
  type: 'string',
  minLength: 1,
  description: 'Branch name (git check-ref-format rules; a leading `-` is refused).',
} as const

export const TIMEOUT_PARAM = {
  ...DURATION_SCHEMA,
  description: 'Stop git after this long (`2m`, or ms). Default: shell.timeout.',
} as const

export const ALLOW_CONFLICTS_PARAM = {
  type: 'boolean',
  default: false,
  description:
    'On conflicts, succeed with `merged: false` and the conflicting files, leaving the merge in progress; otherwise the merge is aborted and the step fails naming them.',
} as const

export const HASH = { type: 'string', description: 'Full commit hash.' } as const

export const STATUS_FILE_SCHEMA = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'Path relative to the top of the work tree.' },
    origPath: { type: 'string', description: 'Old path of a rename or copy.' },
    state: {
      enum: [
        'modified',
        'type_changed',
        'added',
        'deleted',
        'renamed',
        'copied',
        'conflicted',
        'untracked',
        'ignored',
      ],
      description: 'What happened to the file (staged change first, else the work tree change).',
    },
    index: { type: 'string', description: 'Porcelain v2 index letter (`.` unchanged).' },
    worktree: { type: 'string', description: 'Porcelain v2 work tree letter (`.` unchanged).' },
    staged: { type: 'boolean', description: 'True when the change is in the index.' },
  },
  required: ['path', 'state', 'index', 'worktree', 'staged'],
} as const

export const IDENTITY_PARAMS = {
  author_name: {
    type: 'string',
    minLength: 1,
    description: 'Author and committer name of the commit made; default: git config user.name.',
  },
  author_email: {
    type: 'string',
    minLength: 1,
    description: 'Author and committer email of the commit made; default: git config user.email.',
  },
} as const
