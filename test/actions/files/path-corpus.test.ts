/**
 * The path-traversal and symlink corpus: every case runs a real action against a fresh real tree
 * (see fixture.ts) and asserts what the user sees: refused with a message naming the path and the
 * roots, or done (with its effect checked on disk). After every case nothing outside the roots
 * was created, changed or removed.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { corpus, type Case } from './path-cases.ts'
import { buildFixture, HARD, SECRET, snapshot, type Fixture } from './fixture.ts'

const CANARIES = ['/etc/homeostat-corpus-pwn', '/etc/homeostat-corpus-pwn.txt', '/homeostat-corpus-pwn']

function outsideState(fx: Fixture): Record<string, string> {
  return snapshot(fx.base, [fx.root, fx.root2])
}

function quoted(input: unknown): string | undefined {
  if (typeof input !== 'string' || input === '') return undefined
  return JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input).slice(0, 40)
}

const CODES: Record<string, string> = {
  refused: 'HS_ERR_PATH_REFUSED',
  not_found: 'HS_ERR_FILE_NOT_FOUND',
  bad_params: 'HS_ERR_ACTION_PARAMS',
  exists: 'HS_ERR_FILE_EXISTS',
  git_failed: 'HS_ERR_GIT_FAILED',
}

async function runCase(c: Case): Promise<void> {
  const fx = buildFixture()
  c.setup?.(fx)
  const before = outsideState(fx)
  const params = c.params(fx)
  const action = fx.actions[c.action]
  assert.ok(action, `no action ${c.action}`)
  let out: unknown
  let error: (Error & { code?: string }) | undefined
  try {
    out = await runAction(action, params, actionContext())
  } catch (err) {
    error = err as Error & { code?: string }
  }
  if (c.expect === 'ok') {
    assert.equal(error, undefined, `expected success, got: ${error?.message}`)
    const text = JSON.stringify(out)
    assert.ok(!text.includes(SECRET), `output carries the outside secret: ${text.slice(0, 300)}`)
    c.check?.(out, fx)
  } else {
    assert.ok(error, `expected ${c.expect}, but it succeeded: ${JSON.stringify(out)?.slice(0, 300)}`)
    assert.equal(error.code, CODES[c.expect], `wrong code for: ${error.message}`)
    if (c.expect === 'refused') {
      assert.ok(error.message.includes(fx.root), `message does not name the roots: ${error.message}`)
      const q = quoted(params[c.label ?? 'path'])
      if (q !== undefined)
        assert.ok(error.message.includes(q), `message does not name ${q}: ${error.message}`)
    }
    assert.ok(!error.message.includes(SECRET), 'the error carries the outside secret')
  }
  assert.deepEqual(outsideState(fx), before, 'something outside the roots changed')
  assert.equal(readFileSync(join(fx.outside, 'secret.txt'), 'utf8'), SECRET)
  assert.equal(readFileSync(join(fx.outside, 'hard.txt'), 'utf8'), HARD)
  for (const canary of CANARIES) assert.ok(!existsSync(canary), `${canary} was created`)
}

for (const c of corpus) {
  test(`${c.action} ${c.name} → ${c.expect}`, () => runCase(c))
}

test('the corpus holds at least 200 cases, refusals and allowed ones, across every action', () => {
  assert.ok(corpus.length >= 200, `only ${corpus.length} cases`)
  const refused = corpus.filter((c) => c.expect === 'refused').length
  const allowed = corpus.filter((c) => c.expect === 'ok').length
  assert.ok(refused >= 100, `only ${refused} refusals`)
  assert.ok(allowed >= 50, `only ${allowed} allowed cases`)
  const actions = new Set(corpus.map((c) => c.action))
  for (const a of [
    'file.read',
    'file.write',
    'file.append',
    'file.copy',
    'file.move',
    'file.delete',
    'file.list',
    'shell.exec',
    'git.status',
  ]) {
    assert.ok(actions.has(a), `no case for ${a}`)
  }
})
