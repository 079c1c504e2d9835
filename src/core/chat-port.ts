/**
 * The built-in chat channel (the "chat integration" of the source document): messages stored per
 * session, written by the `chat.send` action, by people through the API and CLI, and by the chat bot
 * answering `/run`, `/status` and `/help`; streamed to clients with server-sent events. This file is
 * the port: the message model, its limits and the store interface the rest of the code writes
 * through. The SQLite implementation is `store/sqlite/sqlite-chat-store.ts`.
 */

/** Who wrote a message: a person, the bot (workflows and command answers), or the system. */
export const CHAT_ROLES = ['user', 'bot', 'system'] as const
export type ChatRole = (typeof CHAT_ROLES)[number]

/** A session name: letters, digits, `_ . : -`, 1 to 128 characters, starting with a letter or digit. */
export const CHAT_SESSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/

/** The session `chat.send` writes to when neither its `session` parameter nor a chat trigger names one. */
export const DEFAULT_CHAT_SESSION = 'general'

/** Size limits of one message, checked by every writer (API, CLI, `chat.send`). */
export const CHAT_LIMITS = Object.freeze({
  /** Longest `text`, in characters (64 KiB). */
  maxText: 64 * 1024,
  /** Most `blocks` (rich content, e.g. Slack-style block objects). */
  maxBlocks: 50,
  /** Most `attachments`. */
  maxAttachments: 20,
  /** Largest `blocks` plus `attachments`, in characters of JSON (256 KiB). */
  maxExtraChars: 256 * 1024,
  /** Longest `author`, in characters. */
  maxAuthor: 200,
  /** Most messages one read returns. */
  maxPage: 500,
})

/** A file or link that goes with a message. */
export interface ChatAttachment {
  /** What a reader sees: a file name or a title. */
  name: string
  /** Where it is, when it is a link. */
  url?: string
  /** MIME type, e.g. `text/markdown`. */
  contentType?: string
  /** Inline content, for small text attachments (a diff, a report). */
  text?: string
}

/** A stored message. `id` grows with every message of every session: use it as the `after` cursor. */
export interface ChatMessage {
  id: number
  session: string
  role: ChatRole
  /** `cli:alice`, `api`, `workflow:code_review`, `homeostat` (the bot). */
  author: string
  text: string
  blocks?: unknown[]
  attachments?: ChatAttachment[]
  /** The run that wrote it, or that it is about. */
  runId?: string
  /** Milliseconds since the epoch. */
  at: number
}

/** What a writer gives; the store assigns `id`. */
export interface NewChatMessage extends Omit<ChatMessage, 'id'> {
  /**
   * A key that makes the write happen once: a second write with the same key returns the first
   * message (`created: false`). `chat.send` passes its step's idempotency key, so a retried or
   * recovered step does not post twice.
   */
  idempotencyKey?: string
}

export interface ChatSessionSummary {
  session: string
  messages: number
  /** Id and time of the newest message. */
  lastId: number
  lastAt: number
  /** The newest message's text, cut to 200 characters. */
  lastText: string
}

/** A live subscription's callback: each new message once, in id order. */
export type ChatListener = (message: ChatMessage) => void

export interface ChatStore {
  /** Stores a message (or returns the one stored earlier under the same idempotency key). */
  appendMessage(message: NewChatMessage): Promise<{ message: ChatMessage; created: boolean }>
  /**
   * Messages of a session with `id > after` (default 0), in id order, at most `limit` (default 100,
   * at most `CHAT_LIMITS.maxPage`): the oldest of them, or the newest with `newest: true`.
   */
  listMessages(
    session: string,
    options?: { after?: number; limit?: number; newest?: boolean },
  ): Promise<ChatMessage[]>
  /** Every session with at least one message, most recently active first. */
  listSessions(): Promise<ChatSessionSummary[]>
  /**
   * Calls `listener` for every message stored from now on in `session` (every session when
   * undefined), including messages written by other processes sharing the store (found by polling).
   * Returns the function that ends the subscription.
   */
  subscribe(session: string | undefined, listener: ChatListener): () => void
}

/**
 * Checks a message a writer is about to store and returns the first problem as a sentence naming
 * the field, or undefined when it is fine.
 */
export function chatMessageProblem(m: Omit<NewChatMessage, 'at' | 'role'>): string | undefined {
  if (typeof m.session !== 'string' || !CHAT_SESSION_PATTERN.test(m.session))
    return `session ${JSON.stringify(m.session)} is not a session name (letters, digits, _ . : -, at most 128, starting with a letter or digit)`
  if (typeof m.text !== 'string') return 'text must be a string'
  if (m.text.length > CHAT_LIMITS.maxText)
    return `text is ${m.text.length} characters long; the limit is ${CHAT_LIMITS.maxText}`
  if (typeof m.author !== 'string' || m.author === '' || m.author.length > CHAT_LIMITS.maxAuthor)
    return `author must be 1 to ${CHAT_LIMITS.maxAuthor} characters`
  if (
    m.blocks !== undefined &&
    (!Array.isArray(m.blocks) ||
      m.blocks.length > CHAT_LIMITS.maxBlocks ||
      m.blocks.some((b) => typeof b !== 'object' || b === null || Array.isArray(b)))
  )
    return `blocks must be a list of at most ${CHAT_LIMITS.maxBlocks} objects`
  if (m.attachments !== undefined) {
    if (!Array.isArray(m.attachments) || m.attachments.length > CHAT_LIMITS.maxAttachments)
      return `attachments must be a list of at most ${CHAT_LIMITS.maxAttachments} entries`
    const bad = m.attachments.findIndex(
      (a) =>
        typeof a !== 'object' ||
        a === null ||
        typeof a.name !== 'string' ||
        (['url', 'contentType', 'text'] as const).some((k) => a[k] !== undefined && typeof a[k] !== 'string'),
    )
    if (bad >= 0)
      return `attachments/${bad} must be an object with a \`name\` (and optional \`url\`, \`contentType\`, \`text\` strings)`
  }
  const extra = JSON.stringify([m.blocks ?? [], m.attachments ?? []]).length
  if (extra > CHAT_LIMITS.maxExtraChars)
    return `blocks and attachments take ${extra} characters of JSON; the limit is ${CHAT_LIMITS.maxExtraChars}`
  return undefined
}
