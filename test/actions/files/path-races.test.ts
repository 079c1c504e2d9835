/**
 * Check-then-use races: the path is checked, then (as an attacker with write access inside the
 * root could) a directory or the file itself is swapped for a symlink leading out before the
 * action opens it. The open must fail and nothing outside may be read or changed.
 */
import assert from 'node:assert/strict'
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { PathGuard, type ResolveOptions } from '../../../src/actions/fs/path-guard.ts'
import { appendConfined, readConfined, writeReplacing } from '../../../src/actions/fs/safe-file.ts'
import { buildFixture, SECRET, snapshot } from './fixture.ts'

const signal = new AbortController().signal

function setup() {
  const fx = buildFixture()
  writeFileSync(join(fx.outside, 'nested.txt'), SECRET)
  const guard = new PathGuard([fx.root, fx.root2])
  const where = (action: string): ResolveOptions => ({ action, label: 'path', follow: true })
  /** Replaces root/sub with a symlink to the outside directory. */
  const swapSub = (): void => {
    renameSync(join(fx.root, 'sub'), join(fx.root, 'sub-old'))
    symlinkSync('../outside', join(fx.root, 'sub'))
  }
  /** Replaces root/file.txt with a symlink to the outside secret. */
  const swapFile = (): void => {
    rmSync(join(fx.root, 'file.txt'))
    symlinkSync('../outside/secret.txt', join(fx.root, 'file.txt'))
  }
  return { fx, guard, where, swapSub, swapFile, before: snapshot(fx.outside) }
}

test('read: a parent directory swapped for a symlink after the check is caught after opening', async () => {
  const { fx, guard, where, swapSub, before } = setup()
  const path = await guard.resolve('sub/nested.txt', where('file.read'))
  swapSub()
  await assert.rejects(
    readConfined(guard, path, where('file.read'), 1000, signal),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HS_ERR_PATH_REFUSED')
      assert.match(err.message, /changed while it was being opened/)
      assert.ok(!err.message.includes(SECRET))
      return true
    },
  )
  assert.deepEqual(snapshot(fx.outside), before)
})

test('read: the file itself swapped for a symlink is refused by O_NOFOLLOW', async () => {
  const { guard, where, swapFile } = setup()
  const path = await guard.resolve('file.txt', where('file.read'))
  swapFile()
  await assert.rejects(readConfined(guard, path, where('file.read'), 1000, signal), /became a symlink/)
})

test('write: a parent swapped for a symlink leaves nothing outside, not even the temporary file', async () => {
  const { fx, guard, where, swapSub, before } = setup()
  const path = await guard.resolve('sub/new.txt', where('file.write'))
  swapSub()
  await assert.rejects(
    writeReplacing(guard, path, where('file.write'), Buffer.from('PWNED'), { overwrite: true, signal }),
    { code: 'HS_ERR_PATH_REFUSED' },
  )
  assert.deepEqual(snapshot(fx.outside), before)
})

test('write: the target swapped for a symlink is replaced as a name; the file it pointed to is unchanged', async () => {
  const { fx, guard, where, swapFile, before } = setup()
  const path = await guard.resolve('file.txt', where('file.write'))
  swapFile()
  await writeReplacing(guard, path, where('file.write'), Buffer.from('new content'), {
    overwrite: true,
    signal,
  })
  assert.equal(readFileSync(join(fx.root, 'file.txt'), 'utf8'), 'new content')
  assert.equal(readFileSync(join(fx.outside, 'secret.txt'), 'utf8'), SECRET)
  assert.deepEqual(snapshot(fx.outside), before)
})

test('append: the target swapped for a symlink is refused by O_NOFOLLOW; the outside file is unchanged', async () => {
  const { fx, guard, where, swapFile, before } = setup()
  const path = await guard.resolve('file.txt', where('file.append'))
  swapFile()
  await assert.rejects(
    appendConfined(guard, path, where('file.append'), Buffer.from('+PWNED'), signal),
    /became a symlink/,
  )
  assert.deepEqual(snapshot(fx.outside), before)
})

test('append: a parent swapped for a symlink is caught after opening', async () => {
  const { fx, guard, where, swapSub } = setup()
  const path = await guard.resolve('sub/nested.txt', where('file.append'))
  swapSub()
  await assert.rejects(appendConfined(guard, path, where('file.append'), Buffer.from('+PWNED'), signal), {
    code: 'HS_ERR_PATH_REFUSED',
  })
  assert.equal(readFileSync(join(fx.outside, 'nested.txt'), 'utf8'), SECRET)
})
