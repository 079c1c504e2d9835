import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { ERROR_CODES } from '../src/core/errors.ts'

const root = resolve(import.meta.dirname, '..')

test('docs/errors.md lists every error code with its status, and no code that does not exist', () => {
  const doc = readFileSync(resolve(root, 'docs', 'errors.md'), 'utf8')
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} missing from docs/errors.md`)
  }
  const documented = [...doc.matchAll(/`(HS_ERR_[A-Z_]+)`/g)].map((m) => m[1]!)
  assert.deepEqual(
    documented.filter((c) => !(c in ERROR_CODES)),
    [],
  )
})

test('the README first screen gives the start and test commands, and the test command is what CI runs', () => {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8')
  const firstScreen = readme.split('\n').slice(0, 40).join('\n')
  assert.match(firstScreen, /npm start/)
  assert.match(firstScreen, /npm test/)
  const ci = readFileSync(resolve(root, '.ci', 'run'), 'utf8')
  assert.match(ci, /^npm test$/m)
})
