import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { snapshot } from '../files/fixture.ts'
import { AUTHOR, gitFixture, type GitFixture } from './git-fixture.ts'

type Failure = Error & { code?: string }
type Files = { path: string; state: string; staged: boolean; origPath?: string }[]

/** main and feature both change line 1 of shared.txt: merging them conflicts. */
function conflicting(g: GitFixture): void {
  g.write('shared.txt', 'base\n')
  g.git('add', 'shared.txt')
  g.git('commit', '-q', '-m', 'shared')
  g.git('switch', '-q', '-c', 'feature')
  g.write('shared.txt', 'feature side\n')
  g.write('feature-only.txt', 'f\n')
  g.git('add', '.')
  g.git('commit', '-q', '-m', 'feature change')
  g.git('switch', '-q', 'main')
  g.write('shared.txt', 'main side\n')
  g.git('commit', '-q', '-am', 'main change')
}

describe('git.status', () => {
  test('branch, head and every kind of change (porcelain v2)', async () => {
    const g = gitFixture()
    const clean = await g.run('git.status', {})
    assert.deepEqual([clean.branch, clean.clean, clean.files], ['main', true, []])
    assert.equal(clean.oid, g.git('rev-parse', 'HEAD').trim())
    g.write('new.txt', 'n')
    g.write('README.md', 'changed\n')
    g.write('staged.txt', 's')
    g.git('add', 'staged.txt')
    g.git('mv', 'README.md', 'READ.md')
    const out = await g.run('git.status', {})
    const byPath = Object.fromEntries((out.files as Files).map((f) => [f.path, f]))
    assert.equal(out.clean, false)
    assert.equal(byPath['new.txt']?.state, 'untracked')
    assert.deepEqual([byPath['staged.txt']?.state, byPath['staged.txt']?.staged], ['added', true])
    assert.deepEqual([byPath['READ.md']?.state, byPath['READ.md']?.origPath], ['renamed', 'README.md'])
  })

  test('in a fresh repository the head is null and the branch is named', async () => {
    const g = gitFixture()
    execFileSync('git', ['init', '-q', '-b', 'trunk', join(g.root, 'empty')])
    const out = await g.run('git.status', { repo: 'empty' })
    assert.deepEqual([out.branch, out.oid, out.clean], ['trunk', null, true])
    assert.deepEqual(await g.run('git.log', { repo: 'empty' }), { commits: [], count: 0, text: '' })
  })
})

describe('git.commit and git.add', () => {
  test('commits the given files with the given author and reports hash, branch and files', async () => {
    const g = gitFixture()
    g.write('docs/guide.md', 'guide\n')
    const out = await g.run('git.commit', {
      ...AUTHOR,
      message: 'docs: add guide\n\nlong body',
      files: ['docs/guide.md'],
    })
    assert.equal(out.hash, g.git('rev-parse', 'HEAD').trim())
    assert.deepEqual([out.branch, out.subject, out.files], ['main', 'docs: add guide', ['docs/guide.md']])
    assert.equal(
      g.git('log', '-1', '--format=%an <%ae>|%cn|%B').trim(),
      'Ann Author <ann@example.com>|Ann Author|docs: add guide\n\nlong body',
    )
  })

  test('a message that looks like an option, or holds # lines, is recorded literally', async () => {
    const g = gitFixture()
    g.write('a.txt', 'a')
    await g.run('git.commit', {
      ...AUTHOR,
      message: '--amend --no-verify\n# not a comment',
      files: ['a.txt'],
    })
    assert.equal(g.git('log', '-1', '--format=%B').trim(), '--amend --no-verify\n# not a comment')
    assert.equal(g.git('rev-list', '--count', 'HEAD').trim(), '2')
  })

  test('nothing staged refuses the commit (HEAD unchanged) unless allow_empty', async () => {
    const g = gitFixture()
    const head = g.git('rev-parse', 'HEAD')
    await assert.rejects(g.run('git.commit', { ...AUTHOR, message: 'empty' }), (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_GIT_NOTHING_TO_COMMIT')
      assert.match(err.message, /nothing to commit .*allow_empty: true/)
      return true
    })
    assert.equal(g.git('rev-parse', 'HEAD'), head)
    const out = await g.run('git.commit', { ...AUTHOR, message: 'marker', allow_empty: true })
    assert.deepEqual(out.files, [])
    assert.notEqual(`${out.hash as string}\n`, head)
  })

  test('all: true commits every tracked change; git.add stages paths and reports the index', async () => {
    const g = gitFixture()
    g.write('README.md', 'edited\n')
    g.write('untracked.txt', 'u')
    const out = await g.run('git.commit', { ...AUTHOR, message: 'edit', all: true })
    assert.deepEqual(out.files, ['README.md'])
    const added = await g.run('git.add', { paths: ['untracked.txt'] })
    assert.deepEqual(added.staged, ['untracked.txt'])
    g.write('dir/x.txt', 'x')
    assert.deepEqual((await g.run('git.add', { all: true })).staged, ['dir/x.txt', 'untracked.txt'])
  })

  test('without an identity (no config, no author) the step fails with git’s own explanation', async () => {
    const g = gitFixture()
    g.write('a.txt', 'a')
    await assert.rejects(g.run('git.commit', { message: 'who am I', files: ['a.txt'] }), (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_GIT_FAILED')
      assert.match(err.message, /Please tell me who you are|empty ident|user\.email/)
      return true
    })
  })
})

describe('git.log and git.diff', () => {
  test('log lists commits newest first, limited, by path, since a date', async () => {
    const g = gitFixture()
    for (const n of [1, 2, 3]) {
      g.write(`f${n}.txt`, `${n}`)
      await g.run('git.commit', { ...AUTHOR, message: `add f${n}`, files: [`f${n}.txt`] })
    }
    const all = await g.run('git.log', {})
    assert.equal(all.count, 4)
    const commits = all.commits as {
      subject: string
      author: string
      email: string
      date: string
      hash: string
    }[]
    assert.deepEqual(
      commits.map((c) => c.subject),
      ['add f3', 'add f2', 'add f1', 'initial'],
    )
    assert.deepEqual([commits[0]!.author, commits[0]!.email], ['Ann Author', 'ann@example.com'])
    assert.match(commits[0]!.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/)
    assert.match(all.text as string, /^[0-9a-f]{7} \d{4}-\d\d-\d\d Ann Author: add f3$/m)
    assert.equal((await g.run('git.log', { max_count: 2 })).count, 2)
    const byPath = (await g.run('git.log', { path: 'f2.txt' })).commits as { subject: string }[]
    assert.deepEqual(
      byPath.map((c) => c.subject),
      ['add f2'],
    )
    assert.equal((await g.run('git.log', { since: '2090-01-01' })).count, 0)
    assert.equal((await g.run('git.log', { ref: 'HEAD~2' })).count, 2)
  })

  test('diff of the work tree, the index and two revisions, with per-file counts', async () => {
    const g = gitFixture()
    g.write('README.md', '# readme\nmore\n')
    const work = await g.run('git.diff', {})
    assert.match(work.text as string, /^\+more$/m)
    assert.deepEqual(work.files, [{ path: 'README.md', added: 1, deleted: 0, binary: false }])
    assert.deepEqual((await g.run('git.diff', { staged: true })).files, [])
    g.git('add', 'README.md')
    assert.equal(((await g.run('git.diff', { staged: true })).files as Files).length, 1)
    g.git('commit', '-q', '-m', 'more')
    writeFileSync(join(g.repo, 'bin.dat'), Buffer.from([0, 1, 2, 0, 255]))
    g.git('add', 'bin.dat')
    g.git('commit', '-q', '-m', 'binary')
    const range = await g.run('git.diff', { from: 'HEAD~2', to: 'HEAD' })
    assert.deepEqual(range.files, [
      { path: 'README.md', added: 1, deleted: 0, binary: false },
      { path: 'bin.dat', added: null, deleted: null, binary: true },
    ])
    assert.deepEqual([range.insertions, range.deletions], [1, 0])
    const only = await g.run('git.diff', { from: 'HEAD~2', to: 'HEAD', paths: ['bin.dat'] })
    assert.equal((only.files as Files).length, 1)
  })
})

describe('branches, checkout and merge', () => {
  test('branch create, list, delete; the checked-out branch cannot be deleted', async () => {
    const g = gitFixture()
    const created = await g.run('git.branch', { action: 'create', name: 'topic/one' })
    assert.equal(created.hash, g.git('rev-parse', 'main').trim())
    const list = await g.run('git.branch', {})
    assert.deepEqual(
      (list.branches as { name: string; current: boolean }[]).map((b) => [b.name, b.current]),
      [
        ['main', true],
        ['topic/one', false],
      ],
    )
    await assert.rejects(g.run('git.branch', { action: 'create', name: 'topic/one' }), /already exists/)
    await assert.rejects(g.run('git.branch', { action: 'delete', name: 'main' }), /is checked out/)
    await g.run('git.branch', { action: 'delete', name: 'topic/one' })
    assert.equal(g.git('branch', '--list', 'topic/one').trim(), '')
  })

  test('checkout switches branches, creates one from a start point, and names a missing one', async () => {
    const g = gitFixture()
    g.write('a.txt', 'a')
    await g.run('git.commit', { ...AUTHOR, message: 'a', files: ['a.txt'] })
    const out = await g.run('git.checkout', { branch: 'old', create: true, start_point: 'HEAD~1' })
    assert.deepEqual([out.branch, out.previous, out.created], ['old', 'main', true])
    assert.equal(g.git('symbolic-ref', '--short', 'HEAD').trim(), 'old')
    assert.ok(!existsSync(join(g.repo, 'a.txt')))
    assert.equal((await g.run('git.checkout', { branch: 'main' })).previous, 'old')
    await assert.rejects(g.run('git.checkout', { branch: 'nope' }), /"nope" does not exist .*create: true/)
  })

  test('a clean merge makes a merge commit with both parents; a fast-forward moves HEAD', async () => {
    const g = gitFixture()
    g.git('switch', '-q', '-c', 'feature')
    g.write('f.txt', 'f')
    g.git('add', 'f.txt')
    g.git('commit', '-q', '-m', 'feature')
    g.git('switch', '-q', 'main')
    const ff = await g.run('git.merge', { ...AUTHOR, branch: 'feature' })
    assert.deepEqual([ff.merged, ff.fastForward, ff.upToDate, ff.conflicts], [true, true, false, []])
    assert.equal(ff.hash, g.git('rev-parse', 'feature').trim())
    g.git('switch', '-q', '-c', 'side')
    g.write('s.txt', 's')
    g.git('add', 's.txt')
    g.git('commit', '-q', '-m', 'side')
    g.git('switch', '-q', 'main')
    g.write('m.txt', 'm')
    g.git('add', 'm.txt')
    g.git('commit', '-q', '-m', 'main')
    const merged = await g.run('git.merge', {
      ...AUTHOR,
      branch: 'side',
      message: 'merge side (automated)',
      ff: 'never',
    })
    assert.deepEqual([merged.merged, merged.fastForward], [true, false])
    assert.equal(g.git('rev-list', '--parents', '-n', '1', 'HEAD').trim().split(' ').length, 3)
    assert.equal(g.git('log', '-1', '--format=%s').trim(), 'merge side (automated)')
    assert.equal((await g.run('git.merge', { ...AUTHOR, branch: 'side' })).upToDate, true)
  })

  test('a conflict fails the step naming the files, and the merge is aborted: the repository is as before', async () => {
    const g = gitFixture()
    conflicting(g)
    const before = snapshot(g.repo, [join(g.repo, '.git', 'logs')])
    const head = g.git('rev-parse', 'HEAD')
    await assert.rejects(g.run('git.merge', { ...AUTHOR, branch: 'feature' }), (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_GIT_CONFLICT')
      assert.match(err.message, /conflicts in shared\.txt; the merge was aborted/)
      assert.ok(!err.message.includes('feature-only.txt'))
      return true
    })
    assert.equal(g.git('rev-parse', 'HEAD'), head)
    assert.ok(!existsSync(join(g.repo, '.git', 'MERGE_HEAD')))
    assert.equal(g.git('status', '--porcelain'), '')
    assert.equal(readFileSync(join(g.repo, 'shared.txt'), 'utf8'), 'main side\n')
    const after = snapshot(g.repo, [join(g.repo, '.git', 'logs')])
    for (const key of Object.keys(before).filter(
      (k) => !k.includes('/.git/objects/') && !k.endsWith('/.git/index'),
    )) {
      assert.equal(after[key], before[key], `${key} changed`)
    }
  })

  test('allow_conflicts leaves the merge in progress and lists the conflicting files', async () => {
    const g = gitFixture()
    conflicting(g)
    const out = await g.run('git.merge', { ...AUTHOR, branch: 'feature', allow_conflicts: true })
    assert.deepEqual([out.merged, out.conflicts], [false, ['shared.txt']])
    assert.ok(existsSync(join(g.repo, '.git', 'MERGE_HEAD')))
    const status = await g.run('git.status', {})
    assert.deepEqual(
      (status.files as Files).filter((f) => f.state === 'conflicted').map((f) => f.path),
      ['shared.txt'],
    )
  })
})

describe('git.push and git.pull against a real bare repository', () => {
  test('push a branch, then pull (fast-forward) what another clone pushed', async () => {
    const g = gitFixture()
    const pushed = await g.run('git.push', { remote: '../remote.git', branch: 'main' })
    const head = g.git('rev-parse', 'HEAD').trim()
    assert.deepEqual([pushed.hash, pushed.upToDate], [head, false])
    assert.equal(
      execFileSync('git', ['--git-dir', g.remote, 'rev-parse', 'main'], { encoding: 'utf8' }).trim(),
      head,
    )
    assert.equal((await g.run('git.push', { remote: '../remote.git', branch: 'main' })).upToDate, true)

    const other = join(g.root, 'other')
    execFileSync('git', ['clone', '-q', g.remote, other])
    writeFileSync(join(other, 'from-other.txt'), 'hello')
    const id = ['-c', 'user.name=O', '-c', 'user.email=o@example.com']
    execFileSync('git', [...id, 'add', '.'], { cwd: other })
    execFileSync('git', [...id, 'commit', '-q', '-m', 'from other'], { cwd: other })
    execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: other })

    const pulled = await g.run('git.pull', { remote: '../remote.git', branch: 'main' })
    assert.deepEqual([pulled.updated, pulled.from], [true, head])
    assert.equal(readFileSync(join(g.repo, 'from-other.txt'), 'utf8'), 'hello')
  })

  test('a named remote works; a pull that cannot fast-forward fails; a conflicting merge pull is aborted', async () => {
    const g = gitFixture()
    g.git('remote', 'add', 'origin', g.remote)
    await g.run('git.push', { branch: 'main', set_upstream: true })
    const other = join(g.root, 'other')
    execFileSync('git', ['clone', '-q', g.remote, other])
    writeFileSync(join(other, 'README.md'), 'theirs\n')
    execFileSync('git', ['-c', 'user.name=O', '-c', 'user.email=o@example.com', 'commit', '-qam', 'theirs'], {
      cwd: other,
    })
    execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: other })
    g.write('README.md', 'ours\n')
    await g.run('git.commit', { ...AUTHOR, message: 'ours', all: true })
    const head = g.git('rev-parse', 'HEAD')
    await assert.rejects(g.run('git.pull', {}), { code: 'HS_ERR_GIT_FAILED' })
    await assert.rejects(g.run('git.pull', { ...AUTHOR, mode: 'merge' }), (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_GIT_CONFLICT')
      assert.match(err.message, /README\.md/)
      return true
    })
    assert.equal(g.git('rev-parse', 'HEAD'), head)
    assert.equal(g.git('status', '--porcelain'), '')
  })
})

describe('dry runs of the side-effecting git actions change nothing', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['git.add', { paths: ['new.txt'] }, /^stage new\.txt in /],
    [
      'git.commit',
      { ...AUTHOR, message: 'planned', files: ['new.txt'] },
      /^commit 1 file\(s\) on main in .*: planned$/,
    ],
    ['git.push', { remote: '../remote.git' }, /^push main \([0-9a-f]{7}\) to .*remote\.git$/],
    [
      'git.pull',
      { remote: '../remote.git', branch: 'main' },
      /^pull main from .*remote\.git into .* \(ff only\)$/,
    ],
    ['git.merge', { branch: 'feature' }, /^merge feature \([0-9a-f]{7}\) into main \([0-9a-f]{7}\) in /],
    ['git.checkout', { branch: 'feature' }, /^switch to branch feature \(from main\)/],
    ['git.checkout', { branch: 'fresh', create: true }, /^create branch fresh and switch to it/],
    ['git.branch', { action: 'create', name: 'planned' }, /^create branch planned at HEAD/],
    ['git.branch', { action: 'delete', name: 'feature' }, /^delete branch feature \(was [0-9a-f]{7}\)/],
    ['git.branch', {}, /^list 2 branch\(es\)/],
  ]
  for (const [type, params, summary] of cases) {
    test(`${type} ${JSON.stringify(params)}`, async () => {
      const g = gitFixture()
      conflicting(g)
      g.write('new.txt', 'planned')
      const before = snapshot(g.root)
      const plan = await g.plan(type, params)
      assert.match(plan.summary, summary)
      assert.deepEqual(snapshot(g.root), before)
    })
  }

  test('plans refuse what execute refuses', async () => {
    const g = gitFixture()
    await assert.rejects(g.plan('git.commit', { ...AUTHOR, message: 'x' }), {
      code: 'HS_ERR_GIT_NOTHING_TO_COMMIT',
    })
    await assert.rejects(g.plan('git.merge', { branch: 'no-such-branch' }), /names no commit/)
    await assert.rejects(g.plan('git.push', { remote: 'ext::sh -c id' }), { code: 'HS_ERR_GIT_ARG_REFUSED' })
    await assert.rejects(g.plan('git.branch', { action: 'delete', name: 'main' }), /is checked out/)
  })
})
