import {
  CHAT_LIMITS,
  type ChatListener,
  type ChatMessage,
  type ChatRole,
  type ChatSessionSummary,
  type ChatStore,
  type NewChatMessage,
} from '../../core/chat-port.ts'
import type { SqliteDb, SqlValue } from './sqlite-driver.ts'
import { StatementCache } from './sqlite-statements.ts'

const COLUMNS = 'id, session, role, author, text, blocks, attachments, run_id, at'

function toMessage(row: SqlValue[]): ChatMessage {
  return {
    id: Number(row[0]),
    session: row[1] as string,
    role: row[2] as ChatRole,
    author: row[3] as string,
    text: row[4] as string,
    ...(row[5] === null ? {} : { blocks: JSON.parse(row[5] as string) as unknown[] }),
    ...(row[6] === null ? {} : { attachments: JSON.parse(row[6] as string) as ChatMessage['attachments'] }),
    ...(row[7] === null ? {} : { runId: row[7] as string }),
    at: Number(row[8]),
  }
}

export interface SqliteChatStoreOptions {
  /** How often subscriptions look for messages written by other processes. Default 250 ms. */
  pollMs?: number
  /** Applied to every message before it is stored (the app's secret redaction). */
  redact?: (message: NewChatMessage) => NewChatMessage
}

interface Subscription {
  session: string | undefined
  listener: ChatListener
}

/**
 * The chat tables, on the connection of `SqliteStore` (`new SqliteChatStore(store.handle)`).
 * Subscriptions are served by one reader per process: a write through this store wakes it at once;
 * while anyone is subscribed it also polls every `pollMs` for messages other processes (a worker
 * running `chat.send`, the CLI) stored in the same file. Each message reaches each subscriber once,
 * in id order.
 */
export class SqliteChatStore implements ChatStore {
  readonly #stmts: StatementCache
  readonly #pollMs: number
  readonly #redact: ((message: NewChatMessage) => NewChatMessage) | undefined
  readonly #subscriptions = new Set<Subscription>()
  /** Highest id handed to subscribers. */
  #delivered = 0
  #timer: NodeJS.Timeout | undefined
  #wakeQueued = false

  constructor(db: SqliteDb, options: SqliteChatStoreOptions = {}) {
    this.#stmts = new StatementCache(db)
    this.#pollMs = options.pollMs ?? 250
    this.#redact = options.redact
  }

  async appendMessage(message: NewChatMessage): Promise<{ message: ChatMessage; created: boolean }> {
    const m = this.#redact ? this.#redact(message) : message
    const blocks = m.blocks === undefined ? null : JSON.stringify(m.blocks)
    const attachments = m.attachments === undefined ? null : JSON.stringify(m.attachments)
    const inserted = this.#stmts
      .arrays(
        `INSERT INTO chat_messages (session, role, author, text, blocks, attachments, run_id, idempotency_key, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
      )
      .get(
        m.session,
        m.role,
        m.author,
        m.text,
        blocks,
        attachments,
        m.runId ?? null,
        m.idempotencyKey ?? null,
        m.at,
      ) as SqlValue[] | undefined
    if (inserted) {
      this.#wake()
      return { message: toMessage(inserted), created: true }
    }
    const existing = this.#stmts
      .arrays(`SELECT ${COLUMNS} FROM chat_messages WHERE idempotency_key = ?`)
      .get(m.idempotencyKey ?? null) as SqlValue[] | undefined
    if (!existing) throw new Error('chat message was neither inserted nor found by its idempotency key')
    return { message: toMessage(existing), created: false }
  }

  async listMessages(
    session: string,
    options: { after?: number; limit?: number; newest?: boolean } = {},
  ): Promise<ChatMessage[]> {
    const limit = Math.min(CHAT_LIMITS.maxPage, Math.max(1, options.limit ?? 100))
    const select = `SELECT ${COLUMNS} FROM chat_messages WHERE session = ? AND id > ? ORDER BY id`
    const rows = this.#stmts
      .arrays(options.newest ? `SELECT * FROM (${select} DESC LIMIT ?) ORDER BY id` : `${select} LIMIT ?`)
      .all(session, options.after ?? 0, limit) as unknown as SqlValue[][]
    return rows.map(toMessage)
  }

  async listSessions(): Promise<ChatSessionSummary[]> {
    const rows = this.#stmts
      .arrays(
        `SELECT s.session, s.messages, m.id, m.at, substr(m.text, 1, 200)
         FROM (SELECT session, COUNT(*) AS messages, MAX(id) AS last_id FROM chat_messages GROUP BY session) s
         JOIN chat_messages m ON m.id = s.last_id
         ORDER BY m.id DESC`,
      )
      .all() as unknown as SqlValue[][]
    return rows.map((r) => ({
      session: r[0] as string,
      messages: Number(r[1]),
      lastId: Number(r[2]),
      lastAt: Number(r[3]),
      lastText: r[4] as string,
    }))
  }

  subscribe(session: string | undefined, listener: ChatListener): () => void {
    const subscription: Subscription = { session, listener }
    if (this.#subscriptions.size === 0) {
      this.#delivered = this.#latestId()
      this.#timer = setInterval(() => {
        try {
          this.#deliver()
        } catch {
          // the store is closing; the subscriptions end with it
        }
      }, this.#pollMs)
      this.#timer.unref()
    }
    this.#subscriptions.add(subscription)
    return () => {
      this.#subscriptions.delete(subscription)
      if (this.#subscriptions.size === 0 && this.#timer) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
  }

  /** Closes every subscription's poll timer (the store's connection belongs to `SqliteStore`). */
  close(): void {
    this.#subscriptions.clear()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #latestId(): number {
    const row = this.#stmts
      .arrays('SELECT COALESCE(MAX(id), 0) FROM chat_messages')
      .get() as unknown as SqlValue[]
    return Number(row[0])
  }

  /** Delivers soon (not inside the writer's call, so a listener that throws cannot fail the write). */
  #wake(): void {
    if (this.#subscriptions.size === 0 || this.#wakeQueued) return
    this.#wakeQueued = true
    setImmediate(() => {
      this.#wakeQueued = false
      this.#deliver()
    })
  }

  #deliver(): void {
    for (;;) {
      if (this.#subscriptions.size === 0) return
      const rows = this.#stmts
        .arrays(`SELECT ${COLUMNS} FROM chat_messages WHERE id > ? ORDER BY id LIMIT 500`)
        .all(this.#delivered) as unknown as SqlValue[][]
      for (const row of rows) {
        const message = toMessage(row)
        this.#delivered = message.id
        for (const s of [...this.#subscriptions]) {
          if (s.session !== undefined && s.session !== message.session) continue
          try {
            s.listener(message)
          } catch {
            // a listener's failure is its own (a closed stream); the others still get the message
          }
        }
      }
      if (rows.length < 500) return
    }
  }
}
