import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { CHAT_LIMITS, CHAT_SESSION_PATTERN, type ChatMessage, type ChatStore } from '../core/chat-port.ts'
import { HsError } from '../core/errors.ts'
import type { ChatBot } from './chat-bot.ts'

/**
 * The chat channel's HTTP API:
 * - `GET  /api/chat/sessions` → `{ sessions: [{ session, messages, lastId, lastAt, lastText }] }`
 * - `GET  /api/chat/:session/messages?after=<id>&limit=<n>` → `{ messages, next }` (`next`: the
 *   `after` of the following page, or null)
 * - `POST /api/chat/:session/messages` `{ text, author?, blocks?, attachments? }` → `201 { message,
 *   replies }`; a text starting with `/` is a chat command and `replies` holds the bot's answer
 * - `GET  /api/chat/:session/stream?after=<id>` (or `?last=<n>`) → server-sent events: the
 *   messages after `after` (without it, the newest `last`, default 20), then every new one, as
 *   `event: message`, `id: <message id>`, `data: <message JSON>`; a reconnecting client's
 *   `Last-Event-ID` resumes where it stopped; `: ping` comments every 15 s.
 */
export interface ChatRouteDeps {
  chat: ChatStore
  bot: ChatBot
  /** Interval of keep-alive comments on streams, in milliseconds. Default 15 000. */
  heartbeatMs?: number
}

function sessionOf(params: unknown): string {
  const { session } = params as { session: string }
  if (!CHAT_SESSION_PATTERN.test(session))
    throw new HsError(
      'HS_ERR_CHAT_INVALID',
      `session ${JSON.stringify(session)} is not a session name (letters, digits, _ . : -, at most 128)`,
    )
  return session
}

function cursor(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0)
    throw new HsError(
      'HS_ERR_BAD_REQUEST',
      `${name} must be a message id (a whole number), not ${JSON.stringify(value)}`,
    )
  return n
}

/** Messages a stream replays when the client gives no cursor. */
const DEFAULT_REPLAY = 20

async function latestId(chat: ChatStore, session: string): Promise<number> {
  return (await chat.listSessions()).find((s) => s.session === session)?.lastId ?? 0
}

function frame(message: ChatMessage): string {
  // JSON has no raw newlines, so one `data:` line carries the whole message
  return `id: ${message.id}\nevent: message\ndata: ${JSON.stringify(message)}\n\n`
}

export function registerChatRoutes(app: FastifyInstance, deps: ChatRouteDeps): void {
  const streams = new Set<ServerResponse>()
  // open streams would keep `close()` waiting for their clients: end them first
  app.addHook('preClose', async () => {
    for (const res of streams) res.end()
    streams.clear()
  })

  app.get('/api/chat/sessions', async () => ({ sessions: await deps.chat.listSessions() }))

  app.get('/api/chat/:session/messages', async (request) => {
    const session = sessionOf(request.params)
    const q = request.query as { after?: string; limit?: string }
    const limit = Math.min(CHAT_LIMITS.maxPage, Math.max(1, cursor(q.limit, 'limit') ?? 100))
    const messages = await deps.chat.listMessages(session, { after: cursor(q.after, 'after') ?? 0, limit })
    return { messages, next: messages.length === limit ? messages.at(-1)!.id : null }
  })

  app.post('/api/chat/:session/messages', async (request, reply) => {
    const session = sessionOf(request.params)
    const body = request.body as Record<string, unknown> | undefined
    if (typeof body !== 'object' || body === null || typeof body.text !== 'string')
      throw new HsError('HS_ERR_CHAT_INVALID', 'body must be JSON { "text": "...", "author"?: "..." }')
    const unknown = Object.keys(body).filter((k) => !['text', 'author', 'blocks', 'attachments'].includes(k))
    if (unknown.length > 0)
      throw new HsError(
        'HS_ERR_CHAT_INVALID',
        `unknown field(s) ${unknown.join(', ')} (known: text, author, blocks, attachments)`,
      )
    const actor = request.headers['x-homeostat-actor']
    const author =
      typeof body.author === 'string'
        ? body.author
        : typeof actor === 'string' && actor !== ''
          ? actor
          : 'api'
    const result = await deps.bot.post(session, {
      text: body.text,
      author,
      ...(body.blocks === undefined ? {} : { blocks: body.blocks as unknown[] }),
      ...(body.attachments === undefined ? {} : { attachments: body.attachments as never }),
    })
    return reply.code(201).send(result)
  })

  app.get('/api/chat/:session/stream', async (request, reply) => {
    const session = sessionOf(request.params)
    const q = request.query as { after?: string; last?: string }
    const lastEventId = request.headers['last-event-id']
    const after =
      cursor(typeof lastEventId === 'string' ? lastEventId : undefined, 'Last-Event-ID') ??
      cursor(q.after, 'after')
    const newest = Math.min(CHAT_LIMITS.maxPage, cursor(q.last, 'last') ?? DEFAULT_REPLAY)
    // without a cursor a client gets the newest `last` messages, then what is posted from now on
    const replay =
      after === undefined ? await deps.chat.listMessages(session, { limit: newest, newest: true }) : []
    let last = after ?? (replay.length > 0 ? replay[0]!.id - 1 : await latestId(deps.chat, session))
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.write('retry: 2000\n\n')
    streams.add(res)
    let live = false
    const pending: ChatMessage[] = []
    const send = (m: ChatMessage): void => {
      if (m.id <= last || res.writableEnded) return
      last = m.id
      res.write(frame(m))
    }
    // subscribe before reading the backlog, so nothing posted in between is missed
    const unsubscribe = deps.chat.subscribe(session, (m) => (live ? send(m) : pending.push(m)))
    const heartbeat = setInterval(() => res.write(': ping\n\n'), deps.heartbeatMs ?? 15_000)
    heartbeat.unref()
    res.on('close', () => {
      unsubscribe()
      clearInterval(heartbeat)
      streams.delete(res)
    })
    for (;;) {
      const page = await deps.chat.listMessages(session, { after: last, limit: CHAT_LIMITS.maxPage })
      for (const m of page) send(m)
      if (page.length < CHAT_LIMITS.maxPage) break
    }
    live = true
    for (const m of pending.splice(0)) send(m)
  })
}
