import assert from 'node:assert/strict'
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileActions } from '../../../src/actions/file-actions.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { tempDir } from '../../helpers/tmp.ts'
import { buildFixture, snapshot, type Fixture } from './fixture.ts'

type Out = Record<string, unknown>
type Entry = { path: string; type: string; name: string; size: number }

async function run(fx: Fixture, type: string, params: Record<string, unknown>): Promise<Out> {
  return (await runAction(fx.actions[type]!, params)) as Out
}

async function failure(
  fx: Fixture,
  type: string,
  params: Record<string, unknown>,
): Promise<Error & { code?: string }> {
  try {
    await run(fx, type, params)
  } catch (err) {
    return err as Error & { code?: string }
  }
  assert.fail(`${type} succeeded with ${JSON.stringify(params)}`)
}

describe('file.read and file.write', () => {
  test('utf8 text round-trips, and the output names the path relative to its root and absolute', async () => {
    const fx = buildFixture()
    const written = await run(fx, 'file.write', { path: 'docs/README.md', content: 'héllo\n', mkdir: true })
    assert.deepEqual(written, {
      path: 'docs/README.md',
      absolute: join(fx.root, 'docs/README.md'),
      root: fx.root,
      bytes: 7,
      created: true,
    })
    const read = await run(fx, 'file.read', { path: 'docs/README.md' })
    assert.equal(read.content, 'héllo\n')
    assert.equal(read.bytes, 7)
    assert.equal(read.encoding, 'utf8')
    assert.match(read.modified as string, /^\d{4}-\d\d-\d\dT/)
  })

  test('base64 carries binary content both ways; invalid base64 is refused and nothing is written', async () => {
    const fx = buildFixture()
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13])
    await run(fx, 'file.write', { path: 'blob.bin', content: bytes.toString('base64'), encoding: 'base64' })
    assert.deepEqual(readFileSync(join(fx.root, 'blob.bin')), bytes)
    const read = await run(fx, 'file.read', { path: 'blob.bin', encoding: 'base64' })
    assert.equal(read.content, bytes.toString('base64'))
    const err = await failure(fx, 'file.write', {
      path: 'bad.bin',
      content: 'not base64!',
      encoding: 'base64',
    })
    assert.equal(err.code, 'HS_ERR_ACTION_PARAMS')
    assert.match(err.message, /not valid base64/)
    assert.ok(!readdirSync(fx.root).includes('bad.bin'))
  })

  test('max_bytes caps reads and writes with a clear message, and nothing is written', async () => {
    const fx = buildFixture({ maxBytes: 100 })
    writeFileSync(join(fx.root, 'big.txt'), 'x'.repeat(101))
    const read = await failure(fx, 'file.read', { path: 'big.txt' })
    assert.equal(read.code, 'HS_ERR_FILE_TOO_LARGE')
    assert.match(read.message, /"big\.txt" is 101 B, over the 100 B limit \(files\.max_bytes\)/)
    const write = await failure(fx, 'file.write', { path: 'out.txt', content: 'y'.repeat(101) })
    assert.equal(write.code, 'HS_ERR_FILE_TOO_LARGE')
    const append = await failure(fx, 'file.append', { path: 'file.txt', content: 'y'.repeat(101) })
    assert.equal(append.code, 'HS_ERR_FILE_TOO_LARGE')
    assert.equal(readFileSync(join(fx.root, 'file.txt'), 'utf8'), 'inside')
    assert.ok(!readdirSync(fx.root).includes('out.txt'))
    await run(fx, 'file.write', { path: 'exact.txt', content: 'z'.repeat(100) })
    assert.equal((await run(fx, 'file.read', { path: 'exact.txt' })).bytes, 100)
  })

  test('a replacing write keeps the file mode, leaves no temporary file, and overwrite: false keeps the old content', async () => {
    const fx = buildFixture()
    chmodSync(join(fx.root, 'file.txt'), 0o640)
    const out = await run(fx, 'file.write', { path: 'file.txt', content: 'new' })
    assert.equal(out.created, false)
    assert.equal(statSync(join(fx.root, 'file.txt')).mode & 0o777, 0o640)
    assert.equal(readFileSync(join(fx.root, 'file.txt'), 'utf8'), 'new')
    const err = await failure(fx, 'file.write', { path: 'file.txt', content: 'newer', overwrite: false })
    assert.equal(err.code, 'HS_ERR_FILE_EXISTS')
    assert.match(err.message, /pass overwrite: true/)
    assert.equal(readFileSync(join(fx.root, 'file.txt'), 'utf8'), 'new')
    assert.deepEqual(
      readdirSync(fx.root).filter((n) => n.includes('homeostat')),
      [],
    )
  })

  test('append creates, then appends; create: false refuses a missing file', async () => {
    const fx = buildFixture()
    assert.equal((await run(fx, 'file.append', { path: 'log.txt', content: 'a\n' })).created, true)
    const second = await run(fx, 'file.append', { path: 'log.txt', content: 'b\n' })
    assert.deepEqual([second.bytes, second.size, second.created], [2, 4, false])
    assert.equal(readFileSync(join(fx.root, 'log.txt'), 'utf8'), 'a\nb\n')
    const err = await failure(fx, 'file.append', { path: 'none.txt', content: 'x', create: false })
    assert.equal(err.code, 'HS_ERR_FILE_NOT_FOUND')
  })

  test('an aborted run reads and writes nothing', async () => {
    const fx = buildFixture()
    const controller = new AbortController()
    controller.abort(new Error('run cancelled'))
    const ctx = actionContext({ signal: controller.signal })
    await assert.rejects(runAction(fx.actions['file.read']!, { path: 'file.txt' }, ctx), /run cancelled/)
    await assert.rejects(
      runAction(fx.actions['file.write']!, { path: 'w.txt', content: 'x' }, ctx),
      /run cancelled|aborted/,
    )
    assert.ok(!readdirSync(fx.root).includes('w.txt'))
  })

  test('with no roots configured every path is refused, saying how to configure them', async () => {
    const fx = buildFixture()
    const read = fileActions({ ...fx.services, files: { roots: [], maxBytes: 100 } }).find(
      (a) => a.type === 'file.read',
    )!
    await assert.rejects(
      runAction(read, { path: join(fx.root, 'file.txt') }),
      /no file roots are configured; set files\.roots/,
    )
  })
})

describe('file.list', () => {
  const names = (out: Out): string[] => (out.entries as Entry[]).map((e) => e.path)

  test('lists one level, sorted, with types; hidden names only with hidden: true', async () => {
    const fx = buildFixture()
    const out = await run(fx, 'file.list', { path: 'sub' })
    assert.deepEqual(names(out), ['sub/deeper', 'sub/nested.txt'])
    const types = Object.fromEntries((out.entries as Entry[]).map((e) => [e.name, e.type]))
    assert.deepEqual(types, { deeper: 'directory', 'nested.txt': 'file' })
    const root = await run(fx, 'file.list', {})
    assert.ok(!names(root).includes('.hidden'))
    assert.equal((root.entries as Entry[]).find((e) => e.path === 'link-out')?.type, 'symlink')
    const hidden = await run(fx, 'file.list', { hidden: true, glob: '*' })
    assert.ok(names(hidden).includes('.hidden'))
  })

  test('globs: extensions, braces, recursion by name or by path', async () => {
    const dir = tempDir()
    const root = join(dir, 'r')
    for (const p of ['src/a.ts', 'src/b.js', 'src/x/c.tsx', 'src/x/d.md', 'top.ts', '.cache/e.ts']) {
      mkdirSync(join(root, p, '..'), { recursive: true })
      writeFileSync(join(root, p), p)
    }
    const fx = buildFixture()
    const list = fileActions({ ...fx.services, files: { roots: [root], maxBytes: 1000 } }).find(
      (a) => a.type === 'file.list',
    )!
    const ls = async (params: Record<string, unknown>) => names((await runAction(list, params)) as Out)
    assert.deepEqual(await ls({ glob: '*.ts' }), ['top.ts'])
    assert.deepEqual(await ls({ glob: '*.ts', recursive: true }), ['src/a.ts', 'top.ts'])
    assert.deepEqual(await ls({ glob: 'src/**/*.{ts,tsx,js}', recursive: true }), [
      'src/a.ts',
      'src/b.js',
      'src/x/c.tsx',
    ])
    assert.deepEqual(await ls({ path: 'src', glob: '*.{ts,js}' }), ['src/a.ts', 'src/b.js'])
    assert.deepEqual(await ls({ glob: '*.ts', recursive: true, hidden: true }), [
      '.cache/e.ts',
      'src/a.ts',
      'top.ts',
    ])
  })

  test('max_entries caps the listing and says truncated', async () => {
    const fx = buildFixture()
    for (let i = 0; i < 30; i++) writeFileSync(join(fx.root, 'sub', `f${String(i).padStart(2, '0')}.log`), '')
    const out = await run(fx, 'file.list', { path: 'sub', glob: '*.log', max_entries: 10 })
    assert.equal(out.count, 10)
    assert.equal(out.truncated, true)
    const all = await run(fx, 'file.list', { path: 'sub', glob: '*.log' })
    assert.deepEqual([all.count, all.truncated], [30, false])
  })

  test('a path that is not a directory, or missing, is said so', async () => {
    const fx = buildFixture()
    assert.equal((await failure(fx, 'file.list', { path: 'file.txt' })).code, 'HS_ERR_ACTION_PARAMS')
    assert.equal((await failure(fx, 'file.list', { path: 'nope' })).code, 'HS_ERR_FILE_NOT_FOUND')
  })
})

describe('move, copy, delete', () => {
  test('moving a file keeps its content and refuses to replace an existing destination by default', async () => {
    const fx = buildFixture()
    const out = await run(fx, 'file.move', { from: 'file.txt', to: 'moved/file.txt', mkdir: true })
    assert.deepEqual([out.path, out.from, out.type, out.bytes], ['moved/file.txt', 'file.txt', 'file', 6])
    assert.equal(readFileSync(join(fx.root, 'moved/file.txt'), 'utf8'), 'inside')
    writeFileSync(join(fx.root, 'a.txt'), 'A')
    const err = await failure(fx, 'file.move', { from: 'a.txt', to: 'moved/file.txt' })
    assert.equal(err.code, 'HS_ERR_FILE_EXISTS')
    assert.equal(readFileSync(join(fx.root, 'a.txt'), 'utf8'), 'A')
    await run(fx, 'file.move', { from: 'a.txt', to: 'moved/file.txt', overwrite: true })
    assert.equal(readFileSync(join(fx.root, 'moved/file.txt'), 'utf8'), 'A')
  })

  test('a move to a root on another file system copies the file and removes the source', async (t) => {
    const other = tempDir()
    // /dev/shm is a tmpfs: a different file system from the temporary directory on this machine.
    const remote = join('/dev/shm', `homeostat-${process.pid}-${Date.now()}`)
    mkdirSync(remote)
    t.after(() => rmSync(remote, { recursive: true, force: true }))
    const fx = buildFixture()
    writeFileSync(join(other, 'f.txt'), 'across')
    const move = fileActions({ ...fx.services, files: { roots: [other, remote], maxBytes: 1000 } }).find(
      (a) => a.type === 'file.move',
    )!
    await runAction(move, { from: 'f.txt', to: join(remote, 'f.txt') })
    assert.equal(readFileSync(join(remote, 'f.txt'), 'utf8'), 'across')
    assert.ok(!readdirSync(other).includes('f.txt'))
  })

  test('copy writes a new file and leaves the source', async () => {
    const fx = buildFixture()
    const out = await run(fx, 'file.copy', { from: 'sub/nested.txt', to: 'copy.txt' })
    assert.equal(out.bytes, 6)
    assert.equal(readFileSync(join(fx.root, 'copy.txt'), 'utf8'), 'nested')
    assert.equal(readFileSync(join(fx.root, 'sub/nested.txt'), 'utf8'), 'nested')
  })

  test('delete removes a symlink, never what it points at', async () => {
    const fx = buildFixture()
    symlinkSync('sub', join(fx.root, 'to-sub'))
    const out = await run(fx, 'file.delete', { path: 'to-sub' })
    assert.deepEqual([out.deleted, out.type], [true, 'symlink'])
    assert.equal(readFileSync(join(fx.root, 'sub/nested.txt'), 'utf8'), 'nested')
  })
})

describe('dry runs', () => {
  const plans: [string, Record<string, unknown>, RegExp][] = [
    [
      'file.write',
      { path: 'new/dir/f.txt', content: 'hello', mkdir: true },
      /^write 5 B to new\/dir\/f\.txt, creating its directory$/,
    ],
    ['file.write', { path: 'file.txt', content: 'hello' }, /^write 5 B to file\.txt \(replacing 6 B\)$/],
    ['file.append', { path: 'file.txt', content: '!!' }, /^append 2 B to file\.txt$/],
    ['file.move', { from: 'file.txt', to: 'sub/' }, /^move file file\.txt to sub\/file\.txt$/],
    ['file.copy', { from: 'file.txt', to: 'c.txt' }, /^copy file\.txt \(6 B\) to c\.txt$/],
    ['file.delete', { path: 'sub', recursive: true }, /^delete directory sub with everything in it$/],
    ['file.delete', { path: 'link-out' }, /^delete symlink link-out$/],
  ]
  for (const [type, params, summary] of plans) {
    test(`${type} plan says what it would do and changes nothing on disk`, async () => {
      const fx = buildFixture()
      const before = snapshot(fx.base)
      const plan = await fx.actions[type]!.plan!(params as never, actionContext())
      assert.match(plan.summary, summary)
      assert.ok(plan.details && typeof plan.details === 'object')
      assert.deepEqual(snapshot(fx.base), before)
    })
  }

  test('plans make the same checks as execute: outside paths, existing files, missing directories', async () => {
    const fx = buildFixture()
    const plan = (type: string, params: Record<string, unknown>) =>
      Promise.resolve(fx.actions[type]!.plan!(params as never, actionContext()))
    await assert.rejects(plan('file.write', { path: '../outside/x', content: 'x' }), {
      code: 'HS_ERR_PATH_REFUSED',
    })
    await assert.rejects(plan('file.write', { path: 'link-out/x', content: 'x' }), {
      code: 'HS_ERR_PATH_REFUSED',
    })
    await assert.rejects(plan('file.write', { path: 'file.txt', content: 'x', overwrite: false }), {
      code: 'HS_ERR_FILE_EXISTS',
    })
    await assert.rejects(plan('file.write', { path: 'no/dir.txt', content: 'x' }), {
      code: 'HS_ERR_FILE_NOT_FOUND',
    })
    await assert.rejects(plan('file.delete', { path: '.' }), { code: 'HS_ERR_PATH_REFUSED' })
    await assert.rejects(plan('file.move', { from: 'file.txt', to: 'link-out/' }), {
      code: 'HS_ERR_PATH_REFUSED',
    })
    await assert.rejects(plan('file.append', { path: 'hard-out', content: 'x' }), {
      code: 'HS_ERR_PATH_REFUSED',
    })
  })
})
