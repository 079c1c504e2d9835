/** The cases of path-corpus.test.ts, by action. Each names its input, its expectation and, when allowed, its effect. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { HARD, type Fixture } from './fixture.ts'

export type Expect = 'refused' | 'ok' | 'not_found' | 'bad_params' | 'exists' | 'git_failed'

export interface Case {
  action: string
  name: string
  params: (fx: Fixture) => Record<string, unknown>
  expect: Expect
  /** Parameter whose value a refusal must name (default `path`). */
  label?: string
  check?: (out: unknown, fx: Fixture) => void
  setup?: (fx: Fixture) => void
}

type Input = string | ((fx: Fixture) => string)
type Out = Record<string, unknown>

const value = (input: Input, fx: Fixture): string => (typeof input === 'string' ? input : input(fx))
const name = (input: Input, label?: string): string =>
  label ??
  (typeof input === 'string' ? JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input) : 'input')

const content = (expected: string) => (out: unknown) => assert.equal((out as Out).content, expected)
const fileIs =
  (rel: string, expected: string, where: 'root' | 'root2' = 'root') =>
  (_: unknown, fx: Fixture) =>
    assert.equal(readFileSync(join(where === 'root' ? fx.root : fx.root2, rel), 'utf8'), expected)
const gone = (rel: string) => (_: unknown, fx: Fixture) =>
  assert.ok(!existsSync(join(fx.root, rel)), `${rel} still exists`)
const isLink = (rel: string) => (_: unknown, fx: Fixture) =>
  assert.ok(lstatSync(join(fx.root, rel)).isSymbolicLink())
const all =
  (...checks: ((out: unknown, fx: Fixture) => void)[]) =>
  (out: unknown, fx: Fixture) => {
    for (const c of checks) c(out, fx)
  }

const out = {
  secret: (fx: Fixture) => join(fx.outside, 'secret.txt'),
  dir: (fx: Fixture) => fx.outside,
  rootx: (fx: Fixture) => join(fx.base, 'rootx', 'secret.txt'),
  viaRoot: (fx: Fixture) => `${fx.root}/../outside/secret.txt`,
  newFile: (fx: Fixture) => join(fx.outside, 'pwn.txt'),
}

const cases: Case[] = []

function read(
  input: Input,
  expect: Expect,
  check?: Case['check'],
  label?: string,
  setup?: Case['setup'],
): void {
  cases.push({
    action: 'file.read',
    name: name(input, label),
    params: (fx) => ({ path: value(input, fx) }),
    expect,
    check,
    setup,
  })
}

// file.read — refused: `..`, absolute paths, prefix siblings, special files outside
read('../outside/secret.txt', 'refused')
read('../../../../../../../../../../etc/passwd', 'refused')
read('/etc/passwd', 'refused')
read('/etc/shadow', 'refused')
read('/proc/self/environ', 'refused')
read('/dev/zero', 'refused')
read('/', 'refused')
read('..', 'refused')
read('../', 'refused')
read('./../outside/secret.txt', 'refused')
read('sub/../../outside/secret.txt', 'refused')
read('sub/deeper/../../../outside/secret.txt', 'refused')
read('sub/./../../outside/./secret.txt', 'refused')
read(out.secret, 'refused', undefined, 'absolute path outside')
read(out.viaRoot, 'refused', undefined, 'root/../outside (absolute with ..)')
read(out.rootx, 'refused', undefined, 'sibling whose name has the root as a prefix')
read('../rootx/secret.txt', 'refused')
read('../root2/../outside/secret.txt', 'refused')
// file.read — refused: symlinks leading out
read('link-out/secret.txt', 'refused')
read('link-out/sub/deep-secret.txt', 'refused')
read('link-out-file', 'refused')
read('link-abs-etc', 'refused')
read('link-abs-tmp', 'refused')
read('chain-a', 'refused')
read('chain-b', 'refused')
read('dangling-out', 'refused')
read('dangling-abs', 'refused')
read('dangling-out-dir/x.txt', 'refused')
read('loop-a', 'refused')
read('loop-a/x', 'refused')
read('dir-with-out-link/x/secret.txt', 'refused')
read('link-parent/outside/secret.txt', 'refused')
read('link-rootx/secret.txt', 'refused')
read('link-self/link-out/secret.txt', 'refused')
read('link-in-dir/../../outside/secret.txt', 'refused')
// file.read — refused: malformed input
read('file.txt\0.png', 'refused')
read('\0', 'refused')
read('sub/\0/nested.txt', 'refused')
read('', 'refused')
read('file.txt\n', 'refused')
read('sub/\r/x', 'refused')
read('\u001b[31mred', 'refused')
read('file\u007f', 'refused')
read('..\\outside\\secret.txt', 'refused')
read('sub\\..\\..\\outside\\secret.txt', 'refused')
read('a'.repeat(256), 'refused', undefined, 'a name of 256 bytes')
read('\u00e9'.repeat(128), 'refused', undefined, 'a name of 128 two-byte characters (256 bytes)')
read('a/'.repeat(2100), 'refused', undefined, 'a path of 4200 characters')
cases.push({
  action: 'file.read',
  name: 'a number instead of a string',
  params: () => ({ path: 42 }),
  expect: 'refused',
})
// file.read — encoded-looking and lookalike names are literal names inside the root
read('%2e%2e%2fetc%2fpasswd', 'ok', content('literal percent name'))
read('..%2foutside%2fsecret.txt', 'not_found')
read('%2e%2e/outside/secret.txt', 'not_found')
read('..%c0%af..%c0%afetc%c0%afpasswd', 'not_found')
read('%252e%252e%252f', 'not_found')
read('\uff0e\uff0e/\uff0e\uff0e/etc/passwd', 'not_found', undefined, 'fullwidth dots with real slashes')
read(
  '\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc\uff0fpasswd',
  'not_found',
  undefined,
  'fullwidth dots and slashes',
)
read('\uff0e\uff0e/inner.txt', 'ok', content('fullwidth dots dir'), 'fullwidth dots directory inside')
read('\u2025', 'ok', content('two dot leader'), 'two-dot leader name')
read('\u2025/outside/secret.txt', 'not_found', undefined, 'two-dot leader as a parent')
read('caf\u00e9.txt', 'ok', content('nfc name'), 'NFC name')
read('cafe\u0301.txt', 'not_found', undefined, 'NFD spelling of an NFC name (a different name)')
read('..foo', 'ok', content('dot-dot-prefixed name'))
read('...', 'ok', content('three dots'))
read('.hidden', 'ok', content('hidden file'))
// file.read — allowed inside
read('file.txt', 'ok', content('inside'))
read('./file.txt', 'ok', content('inside'))
read('sub//nested.txt', 'ok', content('nested'))
read('sub/./nested.txt', 'ok', content('nested'))
read('sub/deeper/../nested.txt', 'ok', content('nested'))
read('sub/deeper/deep.txt', 'ok', content('deep'))
read((fx) => join(fx.root, 'file.txt'), 'ok', content('inside'), 'absolute path inside')
read((fx) => `${fx.root}//sub///nested.txt`, 'ok', content('nested'), 'absolute path with doubled slashes')
read((fx) => join(fx.root2, 'r2.txt'), 'ok', content('second root'), 'absolute path in the second root')
read('../root2/r2.txt', 'ok', content('second root'), '.. into the second root')
read('link-in-file', 'ok', content('nested'))
read('link-in-dir/nested.txt', 'ok', content('nested'))
read('chain-in-a', 'ok', content('inside'), 'symlink chain staying inside')
read('link-root2/r2.txt', 'ok', content('second root'), 'symlink into the second root')
read('link-self/link-self/file.txt', 'ok', content('inside'))
read('hard-out', 'ok', content(HARD), 'hard link (same inode, name inside)')
read('dangling-in', 'not_found')
read('missing.txt', 'not_found')
read('sub/missing/deeper.txt', 'not_found')
read('link-out/../file.txt', 'ok', content('inside'), 'lexical .. after a symlink stays lexical')
read('file.txt/', 'bad_params', undefined, 'trailing slash on a file')
read('file.txt/x', 'not_found', undefined, 'a file used as a directory')
read('sub', 'bad_params')
read('sub/', 'bad_params')
read('.', 'bad_params')
read('fifo', 'bad_params', undefined, 'a FIFO (must not block)', (fx) =>
  execFileSync('mkfifo', [join(fx.root, 'fifo')]),
)

function write(
  input: Input,
  expect: Expect,
  check?: Case['check'],
  label?: string,
  extra: Record<string, unknown> = {},
): void {
  cases.push({
    action: 'file.write',
    name: name(input, label),
    params: (fx) => ({ path: value(input, fx), content: 'PWNED', ...extra }),
    expect,
    check,
  })
}

// file.write — refused
write('../outside/pwn.txt', 'refused')
write('../outside/secret.txt', 'refused')
write('../../../../../../../../etc/homeostat-corpus-pwn', 'refused')
write('/etc/homeostat-corpus-pwn', 'refused')
write('/homeostat-corpus-pwn', 'refused')
write(out.newFile, 'refused', undefined, 'absolute path outside')
write(out.secret, 'refused', undefined, 'absolute existing file outside')
write((fx) => join(fx.base, 'rootx', 'pwn.txt'), 'refused', undefined, 'prefix sibling of the root')
write('sub/../../outside/pwn.txt', 'refused')
write('link-out/pwn.txt', 'refused')
write('link-out/secret.txt', 'refused')
write('link-out/new/dir/pwn.txt', 'refused', undefined, 'symlinked parent, with mkdir', { mkdir: true })
write('link-out-file', 'refused')
write('link-abs-tmp', 'refused')
write('chain-a', 'refused')
write('dangling-out', 'refused', undefined, 'dangling symlink pointing out (would create the target)')
write('dangling-abs', 'refused')
write('dangling-out-dir/pwn.txt', 'refused', undefined, 'dangling dir symlink, with mkdir', { mkdir: true })
write('dir-with-out-link/x/pwn.txt', 'refused')
write('link-parent/outside/pwn.txt', 'refused')
write('loop-a', 'refused')
write('pwn\0.txt', 'refused')
write('', 'refused')
write('..\\pwn.txt', 'refused')
write('pwn\n.txt', 'refused')
write('repo-like/.git/config', 'refused', undefined, 'a git config (its settings run commands)')
write('repo-like/.git/hooks/pre-commit', 'refused', undefined, 'a git hook')
write('gitrepo/.git/hooks/post-checkout', 'refused', undefined, 'a hook of a real repository')
write('gitrepo/.GIT/config', 'refused', undefined, '.GIT in another case')
write('a'.repeat(300), 'refused', undefined, 'a name of 300 bytes')
// file.write — allowed, with the effect on disk
write('new.txt', 'ok', fileIs('new.txt', 'PWNED'))
write('sub/new.txt', 'ok', fileIs('sub/new.txt', 'PWNED'))
write('deep/a/b/c/d.txt', 'ok', fileIs('deep/a/b/c/d.txt', 'PWNED'), 'new directories with mkdir', {
  mkdir: true,
})
write(
  Array.from({ length: 40 }, (_, i) => `d${i}`).join('/') + '/leaf.txt',
  'ok',
  fileIs(Array.from({ length: 40 }, (_, i) => `d${i}`).join('/') + '/leaf.txt', 'PWNED'),
  '40 nested new directories',
  { mkdir: true },
)
write('a'.repeat(255), 'ok', fileIs('a'.repeat(255), 'PWNED'), 'a name of exactly 255 bytes')
write('file.txt', 'ok', fileIs('file.txt', 'PWNED'), 'replace an existing file')
write(
  'link-in-file',
  'ok',
  all(fileIs('sub/nested.txt', 'PWNED'), isLink('link-in-file')),
  'through a symlink inside (the link stays)',
)
write('link-in-dir/new.txt', 'ok', fileIs('sub/new.txt', 'PWNED'))
write(
  'link-root2/new.txt',
  'ok',
  fileIs('new.txt', 'PWNED', 'root2'),
  'through a symlink into the second root',
)
write(
  'dangling-in',
  'ok',
  all(fileIs('sub/missing.txt', 'PWNED'), isLink('dangling-in')),
  'dangling symlink pointing inside',
)
write('hard-out', 'ok', fileIs('hard-out', 'PWNED'), 'hard link: only the name inside is replaced')
write('%2e%2e%2fpwn', 'ok', fileIs('%2e%2e%2fpwn', 'PWNED'), 'percent-encoded name stays literal')
write(
  '\uff0e\uff0e\uff0fpwn',
  'ok',
  fileIs('\uff0e\uff0e\uff0fpwn', 'PWNED'),
  'fullwidth dots and slash stay literal',
)
write('..pwn', 'ok', fileIs('..pwn', 'PWNED'))
write('sub/deeper/../fresh.txt', 'ok', fileIs('sub/fresh.txt', 'PWNED'))
write(
  (fx) => join(fx.root2, 'abs.txt'),
  'ok',
  fileIs('abs.txt', 'PWNED', 'root2'),
  'absolute path in the second root',
)
write('file.txt', 'exists', undefined, 'existing file with overwrite: false', { overwrite: false })
write('nodir/x.txt', 'not_found', undefined, 'missing directory without mkdir')
write('.', 'bad_params', undefined, 'the root itself')
write('sub', 'bad_params', undefined, 'a directory')
write('newdir/', 'bad_params', undefined, 'a trailing slash')

function append(input: Input, expect: Expect, check?: Case['check'], label?: string): void {
  cases.push({
    action: 'file.append',
    name: name(input, label),
    params: (fx) => ({ path: value(input, fx), content: '+PWNED' }),
    expect,
    check,
  })
}

// file.append
append('../outside/secret.txt', 'refused')
append(out.secret, 'refused', undefined, 'absolute existing file outside')
append('/etc/homeostat-corpus-pwn', 'refused')
append('link-out/secret.txt', 'refused')
append('link-out-file', 'refused')
append('link-abs-tmp', 'refused')
append('chain-a', 'refused')
append('dangling-out', 'refused')
append('hard-out', 'refused', undefined, 'a hard link to a file outside (the bytes would show there)')
append('repo-like/.git/config', 'refused')
append('sub/../../outside/secret.txt', 'refused')
append('x\0', 'refused')
append('file.txt', 'ok', fileIs('file.txt', 'inside+PWNED'))
append('link-in-file', 'ok', fileIs('sub/nested.txt', 'nested+PWNED'))
append('fresh.log', 'ok', fileIs('fresh.log', '+PWNED'), 'a new file')
append('dangling-in', 'ok', fileIs('sub/missing.txt', '+PWNED'))
append('sub', 'bad_params', undefined, 'a directory')

function copy(
  from: Input,
  to: Input,
  expect: Expect,
  label: 'from' | 'to',
  check?: Case['check'],
  title?: string,
): void {
  cases.push({
    action: 'file.copy',
    name: title ?? `${name(from)} to ${name(to)}`,
    params: (fx) => ({ from: value(from, fx), to: value(to, fx) }),
    expect,
    label,
    check,
  })
}

// file.copy
copy('../outside/secret.txt', 'stolen.txt', 'refused', 'from')
copy(out.secret, 'stolen.txt', 'refused', 'from', undefined, 'absolute source outside')
copy('/etc/passwd', 'stolen.txt', 'refused', 'from')
copy('link-out-file', 'stolen.txt', 'refused', 'from')
copy('link-out/secret.txt', 'stolen.txt', 'refused', 'from')
copy('chain-a', 'stolen.txt', 'refused', 'from')
copy('link-abs-etc', 'stolen.txt', 'refused', 'from')
copy('file.txt', '../outside/copy.txt', 'refused', 'to')
copy('file.txt', out.newFile, 'refused', 'to', undefined, 'file.txt to an absolute path outside')
copy('file.txt', 'link-out/copy.txt', 'refused', 'to')
copy('file.txt', 'dangling-out', 'refused', 'to')
copy('file.txt', 'link-out/', 'refused', 'to', undefined, 'into a symlinked directory outside')
copy('file.txt', 'repo-like/.git/hooks/pre-commit', 'refused', 'to')
copy('file.txt', 'copy.txt', 'ok', 'to', fileIs('copy.txt', 'inside'))
copy('link-in-file', 'copy.txt', 'ok', 'to', fileIs('copy.txt', 'nested'))
copy('file.txt', 'sub/', 'ok', 'to', fileIs('sub/file.txt', 'inside'), 'file.txt into sub/')
copy(
  'file.txt',
  (fx) => join(fx.root2, 'copy.txt'),
  'ok',
  'to',
  fileIs('copy.txt', 'inside', 'root2'),
  'into the second root',
)
copy('file.txt', 'sub/nested.txt', 'exists', 'to')
copy('sub', 'sub-copy', 'bad_params', 'from', undefined, 'a directory')

function move(
  from: Input,
  to: Input,
  expect: Expect,
  label: 'from' | 'to',
  check?: Case['check'],
  title?: string,
): void {
  cases.push({
    action: 'file.move',
    name: title ?? `${name(from)} to ${name(to)}`,
    params: (fx) => ({ from: value(from, fx), to: value(to, fx) }),
    expect,
    label,
    check,
  })
}

// file.move
move('../outside/secret.txt', 'm.txt', 'refused', 'from')
move(out.secret, 'm.txt', 'refused', 'from', undefined, 'absolute source outside')
move('link-out/secret.txt', 'm.txt', 'refused', 'from')
move('file.txt', '../outside/m.txt', 'refused', 'to')
move('file.txt', out.newFile, 'refused', 'to', undefined, 'file.txt to an absolute path outside')
move('file.txt', 'link-out/m.txt', 'refused', 'to')
move('file.txt', 'link-out/', 'refused', 'to', undefined, 'into a symlinked directory outside')
move('file.txt', 'repo-like/.git/hooks/post-merge', 'refused', 'to')
move('repo-like/.git', 'stolen-git', 'refused', 'from', undefined, 'a .git directory')
move('.', 'elsewhere', 'refused', 'from', undefined, 'the root itself')
move((fx) => fx.root2, 'r2-moved', 'refused', 'from', undefined, 'the second root itself')
move('sub', 'sub/inner', 'refused', 'to', undefined, 'a directory into itself')
move('file.txt', 'renamed.txt', 'ok', 'to', all(fileIs('renamed.txt', 'inside'), gone('file.txt')))
move('file.txt', 'sub/', 'ok', 'to', fileIs('sub/file.txt', 'inside'), 'file.txt into sub/')
move('sub', 'sub-moved', 'ok', 'to', fileIs('sub-moved/nested.txt', 'nested'))
move(
  'link-out',
  'moved-link',
  'ok',
  'from',
  all(isLink('moved-link'), gone('link-out')),
  'a symlink pointing out (moved as a link)',
)
move(
  'dangling-out',
  'moved-dangling',
  'ok',
  'from',
  isLink('moved-dangling'),
  'a dangling symlink (moved as a link)',
)
move(
  'file.txt',
  (fx) => join(fx.root2, 'moved.txt'),
  'ok',
  'to',
  fileIs('moved.txt', 'inside', 'root2'),
  'into the second root',
)
move('file.txt', 'sub/nested.txt', 'exists', 'to')
move('missing.txt', 'x.txt', 'not_found', 'from')

function del(
  input: Input,
  expect: Expect,
  check?: Case['check'],
  label?: string,
  extra: Record<string, unknown> = {},
): void {
  cases.push({
    action: 'file.delete',
    name: name(input, label),
    params: (fx) => ({ path: value(input, fx), ...extra }),
    expect,
    check,
  })
}

// file.delete
del('../outside/secret.txt', 'refused')
del(out.secret, 'refused', undefined, 'absolute file outside')
del(out.dir, 'refused', undefined, 'absolute directory outside', { recursive: true })
del('link-out/secret.txt', 'refused')
del('link-out/', 'refused', undefined, 'trailing slash follows the link out', { recursive: true })
del('dir-with-out-link/x/secret.txt', 'refused')
del('/etc/homeostat-corpus-pwn', 'refused')
del('.', 'refused', undefined, 'the root itself', { recursive: true })
del((fx) => fx.root, 'refused', undefined, 'the root by absolute path', { recursive: true })
del((fx) => `${fx.root}/`, 'refused', undefined, 'the root with a trailing slash', { recursive: true })
del((fx) => fx.root2, 'refused', undefined, 'the second root', { recursive: true })
del('link-self', 'ok', gone('link-self'), 'a symlink to the root (the link only)')
del('repo-like/.git', 'refused', undefined, 'a .git directory', { recursive: true })
del('..', 'refused', undefined, 'the parent of the root', { recursive: true })
del('x\0', 'refused')
del('link-out', 'ok', gone('link-out'), 'a symlink pointing out (the link only)')
del('link-out-file', 'ok', gone('link-out-file'), 'a file symlink pointing out (the link only)')
del('chain-a', 'ok', all(gone('chain-a'), isLink('chain-b')), 'the first link of a chain')
del('dangling-out', 'ok', gone('dangling-out'))
del('loop-a', 'ok', gone('loop-a'), 'a link in a loop')
del('hard-out', 'ok', gone('hard-out'), 'a hard link (the other name survives)')
del('dir-with-out-link', 'ok', gone('dir-with-out-link'), 'a directory holding a link out (not followed)', {
  recursive: true,
})
del('file.txt', 'ok', gone('file.txt'))
del('sub', 'ok', gone('sub'), 'a directory, recursively', { recursive: true })
del('sub', 'bad_params', undefined, 'a non-empty directory without recursive')
del('missing.txt', 'not_found')
del('missing.txt', 'ok', (o) => assert.equal((o as Out).deleted, false), 'missing with missing_ok', {
  missing_ok: true,
})

function list(
  input: Input,
  expect: Expect,
  check?: Case['check'],
  label?: string,
  extra: Record<string, unknown> = {},
): void {
  cases.push({
    action: 'file.list',
    name: name(input, label),
    params: (fx) => ({ path: value(input, fx), ...extra }),
    expect,
    check,
    label: extra.glob === undefined ? 'path' : 'glob',
  })
}
const paths = (o: unknown): string[] => ((o as Out).entries as { path: string }[]).map((e) => e.path)
const noOutside = (o: unknown, fx: Fixture): void => {
  for (const e of (o as Out).entries as { absolute: string }[]) {
    assert.ok(
      e.absolute.startsWith(`${fx.root}/`) || e.absolute.startsWith(`${fx.root2}/`),
      `listed ${e.absolute}`,
    )
  }
}

// file.list
list('..', 'refused')
list('../outside', 'refused')
list(out.dir, 'refused', undefined, 'absolute directory outside')
list('/', 'refused')
list('/etc', 'refused')
list('link-out', 'refused')
list('link-out/', 'refused')
list('link-parent', 'refused')
list('dangling-out-dir', 'refused')
list('.', 'refused', undefined, 'glob with ..', { glob: '../*' })
list('.', 'refused', undefined, 'absolute glob', { glob: '/etc/*' })
list('.', 'refused', undefined, 'glob climbing out of a subdirectory', { glob: 'sub/../../*' })
list(
  '.',
  'ok',
  all(noOutside, (o) => assert.ok(paths(o).includes('link-out'))),
  'the root (links listed, not followed)',
)
list(
  '.',
  'ok',
  all(noOutside, (o) => assert.ok(!paths(o).some((p) => p.startsWith('link-out/')))),
  'recursive: never descends into links',
  {
    recursive: true,
  },
)
list(
  '.',
  'ok',
  all(noOutside, (o) => assert.ok(paths(o).includes('sub/deeper/deep.txt'))),
  'recursive *.txt',
  {
    recursive: true,
    glob: '*.txt',
  },
)
list(
  'link-in-dir',
  'ok',
  (o) => assert.deepEqual(paths(o), ['sub/deeper', 'sub/nested.txt']),
  'a symlink to a directory inside',
)
list(
  (fx) => fx.root2,
  'ok',
  (o) => assert.deepEqual(paths(o), ['r2.txt']),
  'the second root',
)
list('file.txt', 'bad_params', undefined, 'a file')

// shell.exec — the working directory must be inside the roots
function cwd(input: Input, expect: Expect, real?: (fx: Fixture) => string, label?: string): void {
  cases.push({
    action: 'shell.exec',
    name: `cwd ${name(input, label)}`,
    params: (fx) => ({ command: 'pwd', args: ['-P'], cwd: value(input, fx) }),
    expect,
    label: 'cwd',
    check: real && ((o, fx) => assert.equal(((o as Out).stdout as string).trim(), realpathSync(real(fx)))),
  })
}
cwd('../outside', 'refused')
cwd('link-out', 'refused')
cwd('/etc', 'refused')
cwd('/', 'refused')
cwd(out.dir, 'refused', undefined, 'absolute directory outside')
cwd((fx) => join(fx.base, 'rootx'), 'refused', undefined, 'prefix sibling of the root')
cwd('dangling-out-dir', 'refused')
cwd('sub/\0', 'refused')
cwd('.', 'ok', (fx) => fx.root)
cwd('sub', 'ok', (fx) => join(fx.root, 'sub'))
cwd('link-in-dir', 'ok', (fx) => join(fx.root, 'sub'), 'a symlink to a directory inside')
cwd(
  (fx) => fx.root2,
  'ok',
  (fx) => fx.root2,
  'the second root',
)

// git.* — the repository must be inside the roots, and git never finds one above a root
function repo(input: Input, expect: Expect, label?: string, setup?: Case['setup']): void {
  cases.push({
    action: 'git.status',
    name: `repo ${name(input, label)}`,
    params: (fx) => ({ repo: value(input, fx) }),
    expect,
    label: 'repo',
    setup,
    check: expect === 'ok' ? (o) => assert.equal((o as Out).branch, 'main') : undefined,
  })
}
repo('../outside', 'refused')
repo('link-out', 'refused')
repo('/etc', 'refused')
repo((fx) => fx.base, 'refused', 'the repository that contains the roots')
repo('.', 'git_failed', 'the root, inside an outer repository (not discovered)')
repo('sub', 'git_failed', 'a subdirectory, inside an outer repository (not discovered)')
repo('gitrepo', 'ok')
repo('gitrepo/inner', 'ok', 'a subdirectory of a repository inside', (fx) =>
  mkdirSync(join(fx.root, 'gitrepo', 'inner')),
)

export const corpus: readonly Case[] = cases
