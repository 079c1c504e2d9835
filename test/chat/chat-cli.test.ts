import assert from 'node:assert/strict'
import { userInfo } from 'node:os'
import { test } from 'node:test'
import type { ChatMessage } from '../../src/core/chat-port.ts'
import { runCli, startCli, until } from '../helpers/cli.ts'
import { chatProject } from './chat-project.ts'

test('chat CLI without a server: send, tail --no-follow, sessions; /run queues the run', async () => {
  const { dir } = chatProject()
  const sent = await runCli(['chat', 'send', 'room', 'hello', 'there', '--author', 'ada'], dir)
  assert.equal(sent.code, 0, sent.stderr)
  assert.match(sent.stdout, /^\d\d:\d\d:\d\dZ #1 ada: hello there$/m)
  const queued = await runCli(['chat', 'send', 'room', '/run', 'hello', '{"name":"Bo"}'], dir)
  assert.match(queued.stdout, /homeostat: ▶ started run \S+ of hello \(version 1\)/)
  assert.match(queued.stdout, /queued: no server runs on this store/)

  const tail = await runCli(['chat', 'tail', 'room', '--no-follow'], dir)
  assert.equal(tail.code, 0, tail.stderr)
  const shown = tail.stdout.trim().split('\n')
  assert.equal(shown.length, 3)
  assert.match(shown[0]!, /#1 ada: hello there$/)
  assert.match(shown[1]!, new RegExp(`#2 cli:${userInfo().username}: /run hello \\{"name":"Bo"\\}$`))
  assert.match(shown[2]!, /#3 homeostat: ▶ started run \S+ of hello/)
  const json = await runCli(['--json', 'chat', 'tail', 'room', '--no-follow', '--after', '1'], dir)
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ChatMessage)
  assert.deepEqual(
    lines.map((m) => m.id),
    [2, 3],
  )

  const sessions = JSON.parse((await runCli(['--json', 'chat', 'sessions'], dir)).stdout) as {
    sessions: Array<{ session: string; messages: number }>
  }
  assert.deepEqual(
    sessions.sessions.map((s) => [s.session, s.messages]),
    [['room', 3]],
  )
  const table = await runCli(['chat', 'sessions'], dir)
  assert.match(table.stdout, /^SESSION\s+MESSAGES\s+LAST\s+LAST MESSAGE$/m)
  assert.match(table.stdout, /^room\s+3\s+/m)

  const bad = await runCli(['chat', 'send', 'no/slash', 'x'], dir)
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /session "no\/slash" is not a session name/)
  assert.match(bad.stderr, /\[HS_ERR_CHAT_INVALID\]/)
})

test('chat CLI with a server: send goes through the API and tail follows the stream to the outcome', async () => {
  const { dir } = chatProject()
  const server = startCli(['serve', '--port', '0'], dir)
  try {
    await until(() => /serving on http/.test(server.stdout()), 30_000, 'the server to start')
    const follow = startCli(['chat', 'tail', 'ops'], dir)
    try {
      // once tail shows `ping` it has read the history: what follows comes through the server's stream
      assert.equal((await runCli(['chat', 'send', 'ops', 'ping'], dir)).code, 0)
      await until(() => follow.stdout().includes(': ping'), 30_000, 'tail to show ping')
      const sent = await runCli(['--json', 'chat', 'send', 'ops', '/run', 'hello', '{"name":"Ada"}'], dir)
      assert.equal(sent.code, 0, sent.stderr)
      const result = JSON.parse(sent.stdout) as { replies: ChatMessage[]; via: string }
      assert.match(result.via, /^http:\/\/127\.0\.0\.1:\d+$/)
      const runId = result.replies[0]!.runId!
      await until(
        () => follow.stdout().includes(`✓ run ${runId} of hello succeeded`),
        30_000,
        'the outcome in tail',
      )
      const text = follow.stdout()
      assert.ok(text.indexOf('/run hello') < text.indexOf('▶ started'), text)
      assert.ok(text.indexOf('▶ started') < text.indexOf('✓ run'), text)
    } finally {
      follow.child.kill('SIGINT')
      const done = await follow.result
      assert.equal(done.code, 0, done.stderr)
    }
  } finally {
    server.child.kill('SIGTERM')
    await server.result
  }
})
