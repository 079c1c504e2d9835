/**
 * Hostile refs, remotes, paths and identities: each is refused before git runs, with a message
 * naming the parameter and the value, and the repositories (work tree, .git, the bare remote) are
 * byte for byte unchanged; no canary file appears (nothing the value smuggled in was executed).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { snapshot } from '../files/fixture.ts'
import { AUTHOR, gitFixture } from './git-fixture.ts'

const g = gitFixture()
g.git('branch', 'feature')
g.write('tracked-change.txt', 'x')
const CANARY = join(g.base, 'CANARY')
const touch = `touch ${CANARY}`

interface Hostile {
  action: string
  /** The parameter holding the hostile value. */
  param: string
  value: string
  params?: Record<string, unknown>
  code?: string
}

const REF_NAMES = [
  '--upload-pack=touch CANARY',
  '--force',
  '-D',
  '-f',
  '--output=/tmp/homeostat-git-pwn',
  '-',
  'main;touch x',
  'a..b',
  'a b',
  'a\nb',
  'a\0b',
  'a\u001bb',
  '@',
  'x@{1}',
  '.hidden',
  'x/.hidden',
  'x.lock',
  'x/',
  '/x',
  'x//y',
  'x.',
  'x~1',
  'x^',
  'x:y',
  'x?',
  'x*',
  'x[',
  'x\\y',
  'refs/heads/../../config',
  'ext::sh',
]
const REVISIONS = [
  '--output=/tmp/homeostat-git-pwn',
  '-p',
  '--all',
  '--exec=touch',
  'HEAD:README.md',
  'main..feature',
  '$(touch x)',
  'main;ls',
  'main feature',
  'HEAD\n--all',
  '`id`',
]
const REMOTES = [
  `ext::sh -c touch% ${CANARY}`,
  `ext::${touch}`,
  'ext::sh',
  'fd::17',
  'file::/etc',
  'transport::x',
  `--upload-pack=${touch}`,
  `--receive-pack=${touch}`,
  `-oProxyCommand=${touch}`,
  `ssh://-oProxyCommand=touch%20CANARY/x`,
  'ssh://user@-oProxyCommand=x/y',
  'ssh://-evil@host/x',
  'git@-oProxyCommand=x:repo',
  'host:-oProxyCommand=x',
  'file:///etc',
  'file://localhost/tmp/x',
  'FILE:///etc',
  'gopher://127.0.0.1/x',
  'ftp://127.0.0.1/x',
  'https://',
  'origin with space',
  'origin\n',
  'origin\0',
  'origin\u001b[31m',
  '/etc',
  '../../outside',
  '../../../../../../../../../tmp',
]
const PATHS = [
  '-rf',
  '--all',
  '-A',
  '../outside.txt',
  '../../etc/passwd',
  '/etc/passwd',
  'a\0b',
  'x\ny',
  '..',
  'sub/../../x',
  '\\x',
  '\u0007',
]

const corpus: Hostile[] = [
  ...REF_NAMES.map((value) => ({ action: 'git.branch', param: 'name', value, params: { action: 'create' } })),
  ...REF_NAMES.slice(0, 12).map((value) => ({
    action: 'git.checkout',
    param: 'branch',
    value,
    params: { create: true },
  })),
  ...REF_NAMES.slice(0, 8).map((value) => ({
    action: 'git.push',
    param: 'branch',
    value,
    params: { remote: '../remote.git' },
  })),
  ...REF_NAMES.slice(0, 8).map((value) => ({
    action: 'git.pull',
    param: 'branch',
    value,
    params: { remote: '../remote.git' },
  })),
  ...REVISIONS.map((value) => ({ action: 'git.merge', param: 'branch', value, params: AUTHOR })),
  ...REVISIONS.map((value) => ({ action: 'git.log', param: 'ref', value })),
  ...REVISIONS.slice(0, 6).map((value) => ({ action: 'git.diff', param: 'from', value })),
  ...REVISIONS.slice(0, 4).map((value) => ({
    action: 'git.checkout',
    param: 'start_point',
    value,
    params: { branch: 'ok', create: true },
  })),
  ...REMOTES.map((value) => ({
    action: 'git.push',
    param: 'remote',
    value,
    code: value.startsWith('/') || value.startsWith('..') ? 'HS_ERR_PATH_REFUSED' : undefined,
  })),
  ...REMOTES.slice(0, 14).map((value) => ({ action: 'git.pull', param: 'remote', value })),
  ...PATHS.map((value) => ({ action: 'git.add', param: 'paths', value })),
  ...PATHS.map((value) => ({
    action: 'git.commit',
    param: 'files',
    value,
    params: { ...AUTHOR, message: 'x' },
  })),
  ...PATHS.slice(0, 6).map((value) => ({ action: 'git.diff', param: 'paths', value })),
  ...PATHS.slice(0, 6).map((value) => ({ action: 'git.log', param: 'path', value })),
  { action: 'git.log', param: 'since', value: '--all' },
  { action: 'git.log', param: 'since', value: 'yesterday\n--all' },
  {
    action: 'git.commit',
    param: 'author_name',
    value: 'Eve <eve@evil>',
    params: { author_email: 'e@x', message: 'm', allow_empty: true },
  },
  {
    action: 'git.commit',
    param: 'author_email',
    value: 'e@x>\nfoo',
    params: { author_name: 'Eve', message: 'm', allow_empty: true },
  },
  {
    action: 'git.merge',
    param: 'author_name',
    value: 'x\u0000',
    params: { author_email: 'e@x', branch: 'feature' },
  },
]

const before = snapshot(g.root)

for (const c of corpus) {
  test(`${c.action} ${c.param}=${JSON.stringify(c.value)} is refused; the repository is unchanged`, async () => {
    const isList = c.param === 'paths' || c.param === 'files'
    const params = { ...c.params, [c.param]: isList ? [c.value] : c.value }
    await assert.rejects(g.run(c.action, params), (err: Error & { code?: string }) => {
      assert.equal(err.code, c.code ?? 'HS_ERR_GIT_ARG_REFUSED', err.message)
      const shown = JSON.stringify(c.value).slice(0, 30)
      assert.ok(err.message.includes(c.param), `message does not name ${c.param}: ${err.message}`)
      assert.ok(
        err.message.includes(shown) || err.message.includes(g.root),
        `message does not show the value: ${err.message}`,
      )
      return true
    })
    if (c.action !== 'git.log' && c.action !== 'git.diff') {
      await assert.rejects(
        g.plan(c.action, params),
        { code: c.code ?? 'HS_ERR_GIT_ARG_REFUSED' },
        'the dry run refuses it too',
      )
    }
    assert.deepEqual(snapshot(g.root), before)
    assert.ok(!existsSync(CANARY), 'a hostile value was executed')
    assert.ok(!existsSync('/tmp/homeostat-git-pwn'))
  })
}

test('the hostile git corpus holds at least 40 cases over refs, remotes and paths', () => {
  assert.ok(corpus.length >= 40, `only ${corpus.length}`)
  for (const p of ['name', 'branch', 'remote', 'paths', 'files', 'ref', 'from'])
    assert.ok(
      corpus.some((c) => c.param === p),
      p,
    )
})

test('even a configured remote named with a transport helper cannot run it: ext:: is disabled in git itself', async () => {
  const other = gitFixture()
  other.git('remote', 'add', 'evil', `ext::sh -c touch% ${join(other.base, 'CANARY')}`)
  await assert.rejects(
    other.run('git.push', { remote: 'evil', branch: 'main' }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HS_ERR_GIT_FAILED')
      assert.match(err.message, /transport 'ext' not allowed/)
      return true
    },
  )
  assert.ok(!existsSync(join(other.base, 'CANARY')))
})

test('a local repository remote outside the roots is refused, a symlink pointing out too', async () => {
  const other = gitFixture()
  const { symlinkSync } = await import('node:fs')
  symlinkSync(other.outside, join(other.repo, 'sneaky.git'))
  await assert.rejects(other.run('git.push', { remote: 'sneaky.git', branch: 'main' }), {
    code: 'HS_ERR_PATH_REFUSED',
  })
  await assert.rejects(other.run('git.push', { remote: other.outside, branch: 'main' }), {
    code: 'HS_ERR_PATH_REFUSED',
  })
})
