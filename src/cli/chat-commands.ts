import type { Command } from 'commander'
import { userInfo } from 'node:os'
import { ChatBot } from '../api/chat-bot.ts'
import { CHAT_SESSION_PATTERN, type ChatMessage, type ChatSessionSummary } from '../core/chat-port.ts'
import { HsError } from '../core/errors.ts'
import type { App } from './app.ts'
import { withApp } from './common.ts'
import { brief, paint, print, printJson, table, time } from './output.ts'
import { callServer, runningServer } from './server-client.ts'

/**
 * `homeostat chat send|tail|sessions`: the built-in chat channel from a terminal. With a server
 * running on this store, commands go through its API (so `/run` answers and streams are live there);
 * without one they work on the store directly (`/run` queues the run for the next server or worker).
 */

function checkSession(session: string): string {
  if (!CHAT_SESSION_PATTERN.test(session))
    throw new HsError(
      'HS_ERR_CHAT_INVALID',
      `session ${JSON.stringify(session)} is not a session name (letters, digits, _ . : -, at most 128)`,
    )
  return session
}

/** One message as a terminal line: `12:00:01 #7 alice: text` (bot lines in cyan). */
export function formatMessage(m: ChatMessage): string {
  const at = time(m.at).slice(11)
  const who =
    m.role === 'bot'
      ? paint('cyan', m.author)
      : m.role === 'system'
        ? paint('gray', m.author)
        : paint('bold', m.author)
  const extra = [
    m.attachments?.length
      ? `${m.attachments.length} attachment(s): ${m.attachments.map((a) => a.name).join(', ')}`
      : '',
    m.blocks?.length ? `${m.blocks.length} block(s)` : '',
  ].filter(Boolean)
  const text = m.text.includes('\n') ? `\n${m.text.replace(/^/gm, '    ')}` : m.text
  return `${paint('gray', `${at} #${m.id}`)} ${who}: ${text}${extra.length ? paint('gray', ` [${extra.join('; ')}]`) : ''}`
}

function localBot(app: App, registry: Awaited<ReturnType<App['registry']>>): ChatBot {
  return new ChatBot({ chat: app.chat, store: app.store, workflows: registry, runs: app.runs })
}

async function send(
  app: App,
  session: string,
  text: string,
  author: string,
): Promise<{ message: ChatMessage; replies: ChatMessage[]; via: string }> {
  const base = runningServer(app.config.dataDir)
  if (base) {
    const { body } = await callServer<{ message: ChatMessage; replies: ChatMessage[] }>(
      base,
      'POST',
      `/api/chat/${encodeURIComponent(session)}/messages`,
      { text, author },
    )
    return { ...body, via: base }
  }
  return { ...(await localBot(app, await app.registry()).post(session, { text, author })), via: 'store' }
}

/** Follows a server's stream: prints every message until the stream ends or the process is stopped. */
async function tailServer(
  base: string,
  session: string,
  query: string,
  onMessage: (m: ChatMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  try {
    const response = await fetch(`${base}/api/chat/${encodeURIComponent(session)}/stream${query}`, { signal })
    if (!response.ok || !response.body)
      throw new HsError('HS_ERR_INTERNAL', `the server answered ${response.status} to the chat stream`)
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n')
        if (data) onMessage(JSON.parse(data) as ChatMessage)
      }
    }
  } catch (err) {
    // Ctrl-C while connecting or streaming is the normal way out
    if (!signal.aborted) throw err
  }
}

export function registerChatCommands(program: Command): void {
  const chat = program.command('chat').description('the built-in chat channel: send, follow, list sessions')

  chat
    .command('send <session> <text...>')
    .description(
      'post a message; `/run <workflow> [json]`, `/status <run>` and `/help` are answered by the bot',
    )
    .option('--author <name>', 'who is writing (default cli:<user>)')
    .action((session: string, words: string[], cmd: { author?: string }) =>
      withApp(program, async (app, opts) => {
        const author = cmd.author ?? `cli:${userInfo().username}`
        const result = await send(app, checkSession(session), words.join(' '), author)
        if (opts.json) return printJson(result)
        for (const m of [result.message, ...result.replies]) print(formatMessage(m))
        if (result.via === 'store' && result.replies.some((r) => r.text.startsWith('▶ started')))
          print(
            paint(
              'gray',
              'queued: no server runs on this store; `homeostat serve` or `homeostat worker` will run it',
            ),
          )
      })(),
    )

  chat
    .command('tail <session>')
    .description('print a session’s recent messages, then follow new ones (Ctrl-C stops)')
    .option('--after <id>', 'start after this message id (default: the newest --last messages)')
    .option('--last <n>', 'how many recent messages to show first', '20')
    .option('--no-follow', 'print and exit instead of following')
    .action((session: string, cmd: { after?: string; last: string; follow: boolean }) =>
      withApp(program, async (app, opts) => {
        checkSession(session)
        const last = Number(cmd.last)
        const after = cmd.after === undefined ? undefined : Number(cmd.after)
        if (
          !Number.isInteger(last) ||
          last < 0 ||
          (after !== undefined && (!Number.isInteger(after) || after < 0))
        )
          throw new HsError('HS_ERR_USAGE', '--after and --last take whole numbers')
        let seen = after ?? 0
        const show = (m: ChatMessage): void => {
          if (m.id <= seen) return
          seen = m.id
          if (opts.json) process.stdout.write(`${JSON.stringify(m)}\n`)
          else print(formatMessage(m))
        }
        const history =
          after === undefined
            ? last === 0
              ? []
              : await app.chat.listMessages(session, { limit: last, newest: true })
            : await app.chat.listMessages(session, { after, limit: 500 })
        if (after === undefined && history.length === 0)
          seen = (await app.chat.listSessions()).find((s) => s.session === session)?.lastId ?? 0
        if (after === undefined && history.length > 0) seen = history[0]!.id - 1
        for (const m of history) show(m)
        if (!cmd.follow) return
        const controller = new AbortController()
        const stop = (): void => controller.abort()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        try {
          const base = runningServer(app.config.dataDir)
          if (base) await tailServer(base, session, `?after=${seen}`, show, controller.signal)
          else {
            const unsubscribe = app.chat.subscribe(session, show)
            await new Promise<void>((resolve) =>
              controller.signal.addEventListener('abort', () => resolve(), { once: true }),
            )
            unsubscribe()
          }
        } finally {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
        }
      })(),
    )

  chat
    .command('sessions')
    .description('list chat sessions, most recently active first')
    .action(() =>
      withApp(program, async (app, opts) => {
        const sessions: ChatSessionSummary[] = await app.chat.listSessions()
        if (opts.json) return printJson({ sessions })
        if (sessions.length === 0)
          return print('no chat sessions yet; `homeostat chat send <session> <text>` starts one')
        print(
          table(
            ['SESSION', 'MESSAGES', 'LAST', 'LAST MESSAGE'],
            sessions.map((s) => [
              s.session,
              String(s.messages),
              time(s.lastAt),
              brief(s.lastText.replace(/\s+/g, ' '), 60),
            ]),
          ),
        )
      })(),
    )
}
