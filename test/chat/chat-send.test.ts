import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Ajv } from 'ajv'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import { chatActions } from '../../src/actions/chat-actions.ts'
import type { ActionDefinition } from '../../src/core/action.ts'
import { NonRetryableError } from '../../src/core/errors.ts'
import { SqliteChatStore } from '../../src/store/sqlite/sqlite-chat-store.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { actionContext, runAction } from '../helpers/action-context.ts'
import { tempDir } from '../helpers/tmp.ts'

async function chatStore(): Promise<SqliteChatStore> {
  const store = new SqliteStore({ path: join(tempDir(), 'chat.db') })
  await store.migrate()
  const chat = new SqliteChatStore(store.handle)
  after(async () => {
    chat.close()
    await store.close()
  })
  return chat
}

test('chat.send stores one message per step, even when the step is retried', async () => {
  const chat = await chatStore()
  const [send] = chatActions(chat) as [ActionDefinition]
  const ctx = actionContext({ idempotencyKey: 'run-9:post:0' })
  const first = await runAction(send, { text: 'build green', session: 'ci' }, ctx)
  const again = await runAction(send, { text: 'build green', session: 'ci' }, ctx)
  assert.deepEqual({ ...(first as object), at: 0 }, { messageId: 1, session: 'ci', at: 0, created: true })
  assert.equal((again as { created: boolean }).created, false)
  assert.equal((again as { messageId: number }).messageId, 1)
  const stored = await chat.listMessages('ci')
  assert.equal(stored.length, 1)
  assert.deepEqual(
    { ...stored[0], at: 0 },
    { id: 1, session: 'ci', role: 'bot', author: 'workflow:wf', text: 'build green', runId: 'run-9', at: 0 },
  )
  const other = await runAction(
    send,
    { text: 'build green', session: 'ci' },
    actionContext({ idempotencyKey: 'run-9:post:1' }),
  )
  assert.equal((other as { created: boolean }).created, true, 'another foreach iteration posts again')
})

/** params, trigger, expected session. */
const SESSIONS: Array<[Record<string, unknown>, unknown, string]> = [
  [{ text: 'a' }, { type: 'manual' }, 'general'],
  [{ text: 'a' }, { type: 'chat', session: 'ops' }, 'ops'],
  [{ text: 'a', session: 'alerts' }, { type: 'chat', session: 'ops' }, 'alerts'],
  [{ message: 'a' }, { type: 'event', session: 'ignored' }, 'general'],
]
for (const [params, trigger, session] of SESSIONS) {
  test(`chat.send session: ${JSON.stringify(params)} on ${JSON.stringify(trigger)} → ${session}`, async () => {
    const chat = await chatStore()
    const [send] = chatActions(chat) as [ActionDefinition]
    const out = (await runAction(send, params, actionContext({ trigger }))) as { session: string }
    assert.equal(out.session, session)
    assert.equal((await chat.listMessages(session)).length, 1)
  })
}

test('chat.send plan() says what it would post and stores nothing', async () => {
  const chat = await chatStore()
  const [send] = chatActions(chat) as [ActionDefinition]
  const plan = await send.plan!(
    { text: 'Deploy done', blocks: [{ type: 'section' }], attachments: [{ name: 'log.txt' }] },
    actionContext({ trigger: { type: 'chat', session: 'ops' } }),
  )
  assert.equal(plan.summary, 'post 11 characters with 1 block(s) and 1 attachment(s) to chat session ops')
  assert.deepEqual(plan.details, { session: 'ops', author: 'workflow:wf', text: 'Deploy done' })
  assert.deepEqual(await chat.listSessions(), [])
  assert.throws(
    () => send.plan!({ text: 'x', session: 'bad session' }, actionContext()),
    /is not a session name/,
  )
})

/** params that fail, with the reason. */
const REFUSED: Array<[Record<string, unknown>, RegExp]> = [
  [{ text: 'a', message: 'b' }, /give `text` or `message`/],
  [{ session: 'x' }, /`text` is required/],
  [{ text: 'a', session: '../etc' }, /is not a session name/],
  [{ text: 'x'.repeat(64 * 1024 + 1) }, /the limit is 65536/],
  [{ text: 'a', attachments: [{ url: 'http://x' }] }, /attachments\/0 must be an object with a `name`/],
]
for (const [params, reason] of REFUSED) {
  test(`chat.send refuses ${JSON.stringify(params).slice(0, 50)}`, async () => {
    const chat = await chatStore()
    const [send] = chatActions(chat) as [ActionDefinition]
    await assert.rejects(
      runAction(send, params),
      (err: Error) => err instanceof NonRetryableError && reason.test(err.message),
    )
    assert.deepEqual(await chat.listSessions(), [])
  })
}

test('without a chat channel chat.send fails with a clear, non-retryable error', async () => {
  const send = builtinActions().get('chat.send')!
  await assert.rejects(runAction(send, { text: 'hi' }), /the chat channel is not available in this process/)
})

test('chat.send schemas compile in Ajv strict mode; the params schema asks for text or message', () => {
  const send = builtinActions().get('chat.send')!
  assert.equal(send.sideEffects, true)
  const ajv = new Ajv({ strict: true, allErrors: true })
  const validate = ajv.compile(send.params)
  ajv.compile(send.output!)
  assert.equal(validate({ text: 'hi' }), true)
  assert.equal(validate({ message: 'hi', session: 'ops' }), true)
  assert.equal(validate({ session: 'ops' }), false)
  assert.equal(validate({ text: 'hi', channel: '#x' }), false)
})

async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
  assert.ok(check(), what)
}

test('subscriptions get each new message once, in order, per session', async () => {
  const chat = await chatStore()
  const seen: string[] = []
  const all: string[] = []
  const stop = chat.subscribe('a', (m) => seen.push(m.text))
  const stopAll = chat.subscribe(undefined, (m) => all.push(`${m.session}:${m.text}`))
  for (const [session, text] of [
    ['a', '1'],
    ['b', '2'],
    ['a', '3'],
  ])
    await chat.appendMessage({ session: session!, role: 'user', author: 'u', text: text!, at: 1 })
  await eventually(() => all.length === 3, 'three messages delivered')
  assert.deepEqual(seen, ['1', '3'])
  assert.deepEqual(all, ['a:1', 'b:2', 'a:3'])
  stop()
  stopAll()
  const witness: string[] = []
  const stopWitness = chat.subscribe('a', (m) => witness.push(m.text))
  await chat.appendMessage({ session: 'a', role: 'user', author: 'u', text: '4', at: 1 })
  await eventually(() => witness.length === 1, 'a live subscriber got message 4')
  stopWitness()
  assert.deepEqual(seen, ['1', '3'], 'nothing after unsubscribing')
  assert.deepEqual(all, ['a:1', 'b:2', 'a:3'])
})
