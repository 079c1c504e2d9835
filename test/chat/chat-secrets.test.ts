import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { SqliteChatStore } from '../../src/store/sqlite/sqlite-chat-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { runCli } from '../helpers/cli.ts'
import { chatProject } from './chat-project.ts'

test('a secret a chat.send step renders is stored and shown redacted', async () => {
  const { dir } = chatProject()
  writeFileSync(
    join(dir, 'workflows', 'leak.yaml'),
    `id: leak
name: Leak
steps:
  - id: post
    uses: chat.send
    with: { session: ops, text: "token is {{ secrets.DEPLOY_TOKEN }}" }
`,
  )
  const canary = 'canary-7f3a9c1e55'
  const set = await runCli(['secrets', 'set', 'DEPLOY_TOKEN', '--value', canary], dir)
  assert.equal(set.code, 0, set.stderr)
  const run = await runCli(['run', 'leak', '--wait'], dir)
  assert.equal(run.code, 0, run.stderr)
  const tail = await runCli(['--json', 'chat', 'tail', 'ops', '--no-follow'], dir)
  assert.equal(tail.code, 0, tail.stderr)
  const [message] = tail.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string })
  assert.ok(message!.text.startsWith('token is '), message!.text)
  assert.ok(!message!.text.includes(canary), message!.text)
  assert.ok(!tail.stdout.includes(canary))
  // what is stored, read without the CLI (whose output is redacted too)
  const store = new SqliteStore({ path: join(dir, 'data', 'store.db') })
  try {
    const [stored] = await new SqliteChatStore(store.handle).listMessages('ops')
    assert.ok(stored!.text.startsWith('token is '))
    assert.ok(!stored!.text.includes(canary), stored!.text)
  } finally {
    await store.close()
  }
})
