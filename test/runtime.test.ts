import assert from 'node:assert/strict'
import { test } from 'node:test'

test('the tests run on Node 24 (the node@24 devDependency), not the system Node', () => {
  assert.equal(
    process.versions.node.split('.')[0],
    '24',
    `running on ${process.version}: run through npm so node_modules/.bin/node is used`,
  )
})
