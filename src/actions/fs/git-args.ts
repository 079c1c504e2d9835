import { isAbsolute, relative, resolve } from 'node:path'
import { CodedNonRetryableError } from './action-errors.ts'
import { firstControl } from './path-guard.ts'

/**
 * Checks on every string a git action passes to the git CLI. Each check throws
 * `HS_ERR_GIT_ARG_REFUSED` naming the parameter, the value and the rule it broke, so a hostile or
 * mistaken value never reaches git as an option (`--upload-pack=...`), a transport helper
 * (`ext::sh -c ...`) or a path outside the repository.
 */

function refuse(action: string, label: string, value: string, why: string): never {
  const shown = JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)
  throw new CodedNonRetryableError(
    'HS_ERR_GIT_ARG_REFUSED',
    `${action}: ${label} ${shown} is refused: ${why}.`,
  )
}

function common(action: string, label: string, value: unknown, max: number): string {
  if (typeof value !== 'string') {
    throw new CodedNonRetryableError('HS_ERR_GIT_ARG_REFUSED', `${action}: ${label} must be a string.`)
  }
  if (value === '') refuse(action, label, value, 'it is empty')
  if (value.length > max) refuse(action, label, value, `it is longer than ${max} characters`)
  if (value.startsWith('-'))
    refuse(action, label, value, 'it starts with "-", so git would read it as an option')
  if (firstControl(value) !== undefined)
    refuse(action, label, value, 'it contains a control character (NUL, newline, escape, ...)')
  return value
}

/**
 * A branch (or tag) name as `git check-ref-format --branch` accepts it: no leading `-` or `.`,
 * no `..`, `@{`, `//`, spaces or `~^:?*[\`, no component ending in `.lock`, not `@`.
 */
export function checkRefName(action: string, label: string, value: unknown): string {
  const name = common(action, label, value, 255)
  if (/[\s~^:?*[\\]/.test(name))
    refuse(action, label, name, 'a ref name cannot contain spaces or any of ~ ^ : ? * [ \\')
  if (name.includes('..')) refuse(action, label, name, 'a ref name cannot contain ".."')
  if (name.includes('@{') || name === '@')
    refuse(action, label, name, 'a ref name cannot be "@" or contain "@{"')
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
    refuse(action, label, name, 'a ref name cannot start or end with "/" or contain "//"')
  }
  if (name.endsWith('.')) refuse(action, label, name, 'a ref name cannot end with "."')
  for (const part of name.split('/')) {
    if (part.startsWith('.')) refuse(action, label, name, 'no part of a ref name can start with "."')
    if (part.endsWith('.lock')) refuse(action, label, name, 'no part of a ref name can end with ".lock"')
  }
  return name
}

/**
 * A revision to read from: a ref name, a commit hash, `HEAD~2`, `main^`, `main@{1}`, `origin/main`.
 * Ranges (`a..b`) are refused (use the `from`/`to` parameters), as are `:` (blob paths) and spaces.
 */
export function checkRevision(action: string, label: string, value: unknown): string {
  const rev = common(action, label, value, 255)
  if (!/^[\p{L}\p{N}._/@{}~^+-]+$/u.test(rev)) {
    refuse(action, label, rev, 'a revision may hold only letters, digits and . _ / @ { } ~ ^ + -')
  }
  if (rev.includes('..'))
    refuse(action, label, rev, 'ranges are not accepted here; pass the two ends separately')
  return rev
}

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const URL_SCHEMES = new Set(['https', 'http', 'ssh', 'git', 'git+ssh', 'ssh+git'])

/** What a remote parameter turned out to be. */
export type RemoteSpec =
  | { readonly kind: 'name'; readonly value: string }
  | { readonly kind: 'url'; readonly value: string }
  | { readonly kind: 'path'; readonly value: string }

/**
 * A remote: a configured remote's name (`origin`), a URL with a known network scheme (https, http,
 * ssh, git), an scp-like `user@host:path`, or a local path (returned as `path`, to be checked
 * against the file roots by the caller). Refused: a leading `-`, transport helpers
 * (`ext::`, `fd::`, any `<helper>::`), `file://` and other schemes, hosts or users starting with
 * `-` (`ssh://-oProxyCommand=...`), spaces and control characters.
 */
export function checkRemote(action: string, label: string, value: unknown): RemoteSpec {
  const remote = common(action, label, value, 2048)
  if (remote.includes('::')) {
    refuse(
      action,
      label,
      remote,
      'transport helpers ("ext::", "fd::", "<helper>::") can run commands and are not accepted',
    )
  }
  if (/\s/.test(remote)) refuse(action, label, remote, 'a remote cannot contain spaces')
  if (REMOTE_NAME.test(remote) && !remote.includes('..')) return { kind: 'name', value: remote }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(remote)
  if (scheme) {
    const name = scheme[1]!.toLowerCase()
    if (name === 'file')
      refuse(action, label, remote, 'file:// URLs are not accepted; give a plain path inside the file roots')
    if (!URL_SCHEMES.has(name))
      refuse(action, label, remote, `the scheme "${name}" is not one of https, http, ssh, git`)
    const authority = remote.slice(scheme[0].length).split('/')[0] ?? ''
    const at = authority.lastIndexOf('@')
    const user = at >= 0 ? authority.slice(0, at) : ''
    const host = at >= 0 ? authority.slice(at + 1) : authority
    if (host === '') refuse(action, label, remote, 'the URL has no host')
    if (host.startsWith('-') || user.startsWith('-')) {
      refuse(action, label, remote, 'a host or user starting with "-" would be read by ssh as an option')
    }
    return { kind: 'url', value: remote }
  }
  const scp = /^(?:([^@/:]+)@)?([^/:]+):(.*)$/.exec(remote)
  if (scp && !remote.startsWith('/') && !remote.startsWith('.')) {
    const [, user = '', host = '', path = ''] = scp
    if (host.startsWith('-') || user.startsWith('-') || path.startsWith('-')) {
      refuse(
        action,
        label,
        remote,
        'a host, user or path starting with "-" would be read by ssh as an option',
      )
    }
    return { kind: 'url', value: remote }
  }
  if (remote.includes('\\')) refuse(action, label, remote, 'backslashes are not path separators here')
  return { kind: 'path', value: remote }
}

/**
 * A path inside the repository's work tree, for use after `--` (git reads it literally:
 * `--literal-pathspecs`). Returned relative to `cwd`. Refused: a leading `-`, control characters,
 * backslashes, and paths that leave the work tree (`..`, absolute paths elsewhere).
 */
export function checkRepoPath(
  action: string,
  label: string,
  value: unknown,
  cwd: string,
  top: string,
): string {
  const path = common(action, label, value, 4096)
  if (path.includes('\\')) refuse(action, label, path, 'backslashes are not path separators here')
  const absolute = isAbsolute(path) ? resolve(path) : resolve(cwd, path)
  const inTop = relative(top, absolute)
  if (inTop === '..' || inTop.startsWith('../') || isAbsolute(inTop)) {
    refuse(action, label, path, `it leads out of the repository (${top})`)
  }
  const fromCwd = relative(cwd, absolute)
  return fromCwd === '' ? '.' : fromCwd
}

/** A commit author's name or email: no control characters and none of `<>` git would mangle. */
export function checkIdentity(action: string, label: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CodedNonRetryableError(
      'HS_ERR_GIT_ARG_REFUSED',
      `${action}: ${label} must be a non-empty string.`,
    )
  }
  if (firstControl(value) !== undefined || /[<>]/.test(value)) {
    refuse(action, label, value, 'it cannot contain control characters, "<" or ">"')
  }
  return value
}

/** Free text git reads as a value (`--since=`): no control characters, bounded length. */
export function checkText(action: string, label: string, value: unknown, max = 200): string {
  const text = common(action, label, value, max)
  return text
}
