/** Parsers for git's machine-readable outputs (porcelain v2, `-z` formats). Pure functions. */

export type FileState =
  | 'modified'
  | 'type_changed'
  | 'added'
  | 'deleted'
  | 'renamed'
  | 'copied'
  | 'conflicted'
  | 'untracked'
  | 'ignored'

export interface StatusFile {
  readonly path: string
  /** The old path of a rename or copy. */
  readonly origPath?: string
  readonly state: FileState
  /** Index (staged) status letter, `.` when unchanged (`?` untracked, `!` ignored). */
  readonly index: string
  /** Work tree status letter, `.` when unchanged. */
  readonly worktree: string
  readonly staged: boolean
}

export interface StatusSummary {
  /** Current branch; null when HEAD is detached. */
  readonly branch: string | null
  /** Commit HEAD points at; null before the first commit. */
  readonly oid: string | null
  readonly upstream: string | null
  readonly ahead: number
  readonly behind: number
  readonly clean: boolean
  readonly files: StatusFile[]
}

const LETTER_STATE: Record<string, FileState> = {
  M: 'modified',
  T: 'type_changed',
  A: 'added',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  U: 'conflicted',
}

/** Parses `git status --porcelain=v2 --branch -z`. */
export function parseStatus(out: string): StatusSummary {
  const records = out.split('\0')
  let branch: string | null = null
  let oid: string | null = null
  let upstream: string | null = null
  let ahead = 0
  let behind = 0
  const files: StatusFile[] = []
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!
    if (rec === '') continue
    if (rec.startsWith('# ')) {
      const [key, ...rest] = rec.slice(2).split(' ')
      const value = rest.join(' ')
      if (key === 'branch.oid') oid = value === '(initial)' ? null : value
      else if (key === 'branch.head') branch = value === '(detached)' ? null : value
      else if (key === 'branch.upstream') upstream = value
      else if (key === 'branch.ab') {
        const m = /^\+(\d+) -(\d+)$/.exec(value)
        if (m) {
          ahead = Number(m[1])
          behind = Number(m[2])
        }
      }
      continue
    }
    const kind = rec[0]
    if (kind === '?' || kind === '!') {
      const state = kind === '?' ? 'untracked' : 'ignored'
      files.push({ path: rec.slice(2), state, index: kind, worktree: kind, staged: false })
      continue
    }
    const fields = rec.split(' ')
    const xy = fields[1] ?? '..'
    const x = xy[0] ?? '.'
    const y = xy[1] ?? '.'
    if (kind === '1') {
      files.push({
        path: fields.slice(8).join(' '),
        state: stateOf(x, y),
        index: x,
        worktree: y,
        staged: x !== '.',
      })
    } else if (kind === '2') {
      const origPath = records[++i] ?? ''
      files.push({
        path: fields.slice(9).join(' '),
        origPath,
        state: stateOf(x, y),
        index: x,
        worktree: y,
        staged: x !== '.',
      })
    } else if (kind === 'u') {
      files.push({
        path: fields.slice(10).join(' '),
        state: 'conflicted',
        index: x,
        worktree: y,
        staged: false,
      })
    }
  }
  return { branch, oid, upstream, ahead, behind, clean: files.every((f) => f.state === 'ignored'), files }
}

function stateOf(x: string, y: string): FileState {
  return LETTER_STATE[x !== '.' ? x : y] ?? 'modified'
}

export interface LogCommit {
  readonly hash: string
  readonly author: string
  readonly email: string
  /** Author date, ISO 8601 with offset. */
  readonly date: string
  readonly subject: string
}

/** The `--format` `parseLog` reads (used with `-z`). */
export const LOG_FORMAT = '%H%x00%an%x00%ae%x00%aI%x00%s'

/** Parses `git log -z --format=LOG_FORMAT`: five NUL-separated fields per commit. */
export function parseLog(out: string): LogCommit[] {
  const fields = out.split('\0')
  const commits: LogCommit[] = []
  for (let i = 0; i + 4 < fields.length; i += 5) {
    const hash = fields[i]!.replace(/^\n/, '')
    if (hash === '') break
    commits.push({
      hash,
      author: fields[i + 1]!,
      email: fields[i + 2]!,
      date: fields[i + 3]!,
      subject: fields[i + 4]!,
    })
  }
  return commits
}

export interface DiffFile {
  readonly path: string
  readonly origPath?: string
  /** Lines added; null for a binary file. */
  readonly added: number | null
  readonly deleted: number | null
  readonly binary: boolean
}

/** Parses `git diff --numstat -z`: `added\tdeleted\tpath\0`, or `added\tdeleted\t\0old\0new\0` for renames. */
export function parseNumstat(out: string): DiffFile[] {
  const parts = out.split('\0')
  const files: DiffFile[] = []
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i]!
    if (rec === '') continue
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(rec)
    if (!m) continue
    const binary = m[1] === '-'
    const added = binary ? null : Number(m[1])
    const deleted = binary ? null : Number(m[2])
    if (m[3] === '') {
      const origPath = parts[++i] ?? ''
      const path = parts[++i] ?? ''
      files.push({ path, origPath, added, deleted, binary })
    } else {
      files.push({ path: m[3]!, added, deleted, binary })
    }
  }
  return files
}

/** Splits NUL-separated names (`--name-only -z`), dropping the empty tail. */
export function splitNames(out: string): string[] {
  return out.split('\0').filter((n) => n !== '')
}

export interface PushUpdate {
  /** `*` new, ` ` fast-forward, `+` forced, `-` deleted, `=` up to date, `!` rejected. */
  readonly flag: string
  readonly from: string
  readonly to: string
  readonly summary: string
}

/** Parses `git push --porcelain` lines `<flag>\t<from>:<to>\t<summary>`. */
export function parsePush(out: string): PushUpdate[] {
  const updates: PushUpdate[] = []
  for (const line of out.split('\n')) {
    const m = /^([ *+\-=!])\t([^:]*):([^\t]*)\t(.*)$/.exec(line)
    if (m) updates.push({ flag: m[1]!, from: m[2]!, to: m[3]!, summary: m[4]! })
  }
  return updates
}
