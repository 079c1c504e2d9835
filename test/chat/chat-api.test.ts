import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openApp, type App } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { startServer, type RunningServer } from '../../src/cli/serve-command.ts'
import type { ChatMessage } from '../../src/core/chat-port.ts'
import { SqliteChatStore } from '../../src/store/sqlite/sqlite-chat-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { chatProject } from './chat-project.ts'
import { openSse } from './sse-reader.ts'

async function withServer(
  fn: (ctx: { app: App; server: RunningServer; url: string }) => Promise<void>,
): Promise<void> {
  const project = chatProject()
  const app = await openApp(resolveConfig({ config: project.config }, {}, project.dir))
  const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
  try {
    await fn({ app, server, url: server.url })
  } finally {
    await server.stop()
    await app.close()
  }
}

async function post(url: string, session: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/api/chat/${session}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: await res.json() }
}

const message = (e: { data: string }): ChatMessage => JSON.parse(e.data) as ChatMessage

test('/run hello over HTTP: the stream shows the question, the run id and then the outcome', async () => {
  await withServer(async ({ app, url }) => {
    const stream = await openSse(`${url}/api/chat/ops/stream?after=0`)
    assert.equal(stream.status, 200)
    assert.match(stream.contentType ?? '', /^text\/event-stream/)

    const posted = await post(url, 'ops', { text: '/run hello {"name": "Ada"}', author: 'alice' })
    assert.equal(posted.status, 201)
    assert.equal(posted.json.message.role, 'user')
    assert.equal(posted.json.message.author, 'alice')
    const reply = posted.json.replies[0] as ChatMessage
    assert.match(reply.text, /^▶ started run (\S+) of hello \(version 1\)$/)
    const runId = reply.runId!
    assert.ok(reply.text.includes(runId))

    const asked = await stream.next((e) => message(e).text.startsWith('/run hello'))
    assert.equal(asked.event, 'message')
    assert.equal(asked.id, String(message(asked).id))
    const started = await stream.next((e) => message(e).text.startsWith('▶ started'))
    assert.equal(message(started).runId, runId)
    const outcome = await stream.next((e) => /run \S+ of hello succeeded/.test(message(e).text))
    assert.equal(message(outcome).runId, runId)
    assert.equal(message(outcome).role, 'bot')
    assert.match(message(outcome).text, /^✓ run .* succeeded in \d+ms/)
    const ids = stream.events.map((e) => Number(e.id))
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'messages arrive in id order',
    )
    stream.close()

    const run = await app.store.getRun(runId)
    assert.equal(run?.status, 'succeeded')
    assert.deepEqual(run?.trigger.type, 'chat')
    assert.equal(run?.trigger.session, 'ops')
    assert.deepEqual(run?.inputs, { name: 'Ada' })
  })
})

test('a workflow started from chat posts into that session with chat.send; a failure is answered too', async () => {
  await withServer(async ({ url }) => {
    const stream = await openSse(`${url}/api/chat/deploys/stream`)
    const started = await post(url, 'deploys', { text: '/run announce {"who": "Ada"}' })
    const runId = (started.json.replies[0] as ChatMessage).runId
    const posted = await stream.next((e) => message(e).text === 'Deploy done, Ada!')
    const m = message(posted)
    assert.equal(m.author, 'workflow:announce')
    assert.equal(m.runId, runId)
    assert.deepEqual(m.attachments, [
      { name: 'report.md', contentType: 'text/markdown', text: '# all green' },
    ])
    await stream.next((e) => /run \S+ of announce succeeded/.test(message(e).text))

    await post(url, 'deploys', { text: '/run broken' })
    const failed = await stream.next((e) => /of broken failed/.test(message(e).text))
    assert.match(message(failed).text, /^✗ run \S+ of broken failed in \d+ms: .*disk full/)
    stream.close()

    // `session` sends elsewhere: the message lands in `general-2`, not in the asking session
    const other = await openSse(`${url}/api/chat/general-2/stream`)
    await post(url, 'deploys', { text: '/run announce {"who": "Bo", "session": "general-2"}' })
    const elsewhere = await other.next((e) => message(e).text === 'Deploy done, Bo!')
    assert.equal(message(elsewhere).session, 'general-2')
    other.close()
  })
})

test('chat commands answer /help, /status, and explain mistakes', async () => {
  await withServer(async ({ app, url }) => {
    const answer = async (text: string): Promise<string> => {
      const r = await post(url, 'cmd', { text })
      assert.equal(r.status, 201, JSON.stringify(r.json))
      return (r.json.replies as ChatMessage[]).map((m) => m.text).join('\n')
    }
    assert.match(await answer('/help'), /\/run <workflow> \[json inputs\][\s\S]*\/status <run id>/)
    assert.match(await answer('/run helo'), /no workflow `helo`; did you mean `hello`\?/)
    assert.match(await answer('/run hello {name: Ada}'), /the inputs are not JSON/)
    assert.match(await answer('/run hello [1]'), /the inputs must be a JSON object/)
    assert.match(
      await answer('/run hello {"nom": "Ada"}'),
      /cannot start hello: inputs of hello: .*nom.*\(declared inputs: name\)/,
    )
    assert.match(await answer('/deploy now'), /unknown command \/deploy; try \/help/)
    assert.match(await answer('/status nope'), /no run nope/)
    assert.match(await answer('/status'), /usage: \/status <run id>/)
    const plain = await post(url, 'cmd', { text: 'just chatting about /run' })
    assert.deepEqual(plain.json.replies, [])
    const escaped = await post(url, 'cmd', { text: '//run is how you write a slash' })
    assert.deepEqual(escaped.json.replies, [])

    const started = await post(url, 'cmd', { text: '/run hello' })
    const runId = (started.json.replies[0] as ChatMessage).runId!
    for (let i = 0; i < 500 && (await app.store.getRun(runId))?.status !== 'succeeded'; i++)
      await new Promise((r) => setTimeout(r, 10))
    assert.match(
      await answer(`/status ${runId}`),
      new RegExp(`✓ run ${runId} of hello succeeded in \\d+ms\\noutput: `),
    )

    await app.registry().then((r) => r.setEnabled('hello', false, 'test'))
    assert.match(await answer('/run hello'), /workflow hello is disabled/)
  })
})

test('messages: validation, paging, sessions, Last-Event-ID resume, another process writing', async () => {
  await withServer(async ({ app, url }) => {
    const bad = await post(url, 'no spaces allowed', { text: 'hi' })
    assert.equal(bad.status, 400)
    assert.equal(bad.json.code, 'HS_ERR_CHAT_INVALID')
    const long = await post(url, 'room', { text: 'x'.repeat(64 * 1024 + 1) })
    assert.equal(long.json.code, 'HS_ERR_CHAT_INVALID')
    assert.match(long.json.detail, /text is 65537 characters long; the limit is 65536/)
    const extra = await post(url, 'room', { text: 'hi', role: 'bot' })
    assert.match(extra.json.detail, /unknown field\(s\) role/)
    const empty = await post(url, 'room', { text: '   ' })
    assert.match(empty.json.detail, /text is empty/)
    const badAttachment = await post(url, 'room', { text: 'hi', attachments: [{ name: 'a', url: 5 }] })
    assert.match(badAttachment.json.detail, /attachments\/0 must be an object with a `name` \(and optional/)
    const badBlocks = await post(url, 'room', { text: 'hi', blocks: ['text'] })
    assert.match(badBlocks.json.detail, /blocks must be a list of at most 50 objects/)
    const noText = await post(url, 'room', { message: 'hi' })
    assert.equal(noText.status, 400)

    for (let i = 1; i <= 5; i++) assert.equal((await post(url, 'room', { text: `m${i}` })).status, 201)
    const page1 = (await (await fetch(`${url}/api/chat/room/messages?limit=2`)).json()) as any
    assert.deepEqual(
      page1.messages.map((m: ChatMessage) => m.text),
      ['m1', 'm2'],
    )
    const page2 = (await (
      await fetch(`${url}/api/chat/room/messages?limit=2&after=${page1.next}`)
    ).json()) as any
    assert.deepEqual(
      page2.messages.map((m: ChatMessage) => m.text),
      ['m3', 'm4'],
    )
    const bad2 = await fetch(`${url}/api/chat/room/messages?after=abc`)
    assert.equal(bad2.status, 400)

    await post(url, 'lobby', { text: 'newest' })
    const sessions = (await (await fetch(`${url}/api/chat/sessions`)).json()) as any
    assert.deepEqual(
      sessions.sessions.map((s: { session: string; messages: number }) => [s.session, s.messages]),
      [
        ['lobby', 1],
        ['room', 5],
      ],
    )
    assert.equal(sessions.sessions[0].lastText, 'newest')

    // a reconnecting client names the last id it saw and gets only what followed
    const m3 = page2.messages[0] as ChatMessage
    const resumed = await openSse(`${url}/api/chat/room/stream`, { 'last-event-id': String(m3.id) })
    await resumed.next((e) => message(e).text === 'm5')
    assert.deepEqual(
      resumed.events.map((e) => message(e).text),
      ['m4', 'm5'],
    )
    // without a cursor: the newest `last` messages, then live ones
    const recent = await openSse(`${url}/api/chat/room/stream?last=2`)
    await recent.next((e) => message(e).text === 'm5')
    assert.deepEqual(
      recent.events.map((e) => message(e).text),
      ['m4', 'm5'],
    )

    // a message another process stores in the same file reaches open streams (polled)
    const other = new SqliteStore({ path: app.config.store })
    const otherChat = new SqliteChatStore(other.handle)
    await otherChat.appendMessage({
      session: 'room',
      role: 'bot',
      author: 'workflow:elsewhere',
      text: 'from a worker',
      at: Date.now(),
    })
    await other.close()
    const foreign = await resumed.next((e) => message(e).text === 'from a worker')
    assert.equal(message(foreign).author, 'workflow:elsewhere')
    await recent.next((e) => message(e).text === 'from a worker')
    resumed.close()
    recent.close()
  })
})

test('stopping the server ends open streams instead of waiting for their clients', async () => {
  const project = chatProject()
  const app = await openApp(resolveConfig({ config: project.config }, {}, join(project.dir)))
  const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
  const stream = await openSse(`${server.url}/api/chat/ops/stream`)
  await server.stop()
  await app.close()
  await assert.rejects(
    stream.next(() => false, 5000),
    /stream ended/,
  )
})
