import {
  chatMessageProblem,
  type ChatAttachment,
  type ChatMessage,
  type ChatStore,
} from '../core/chat-port.ts'
import { HsError } from '../core/errors.ts'
import type { RunRecord, Store } from '../core/store-port.ts'
import { TERMINAL_RUN_STATUSES } from '../core/store-port.ts'
import { didYouMean } from '../core/suggest.ts'
import type { RunService } from '../engine/run-service.ts'

/**
 * The chat bot of the built-in chat channel: it stores what people post and answers chat commands.
 * - `/run <workflow> [json inputs]` starts a run (trigger `{ type: 'chat', session, messageId, author }`)
 *   and answers with the run id; `announceOutcome` answers again when the run ends.
 * - `/status <run>` answers with the run's status, duration and error.
 * - `/help` lists the commands.
 * A text not starting with `/` (or starting with `//`, a literal slash) is only stored.
 */

/** The bot's author name on its answers. */
export const CHAT_BOT_AUTHOR = 'homeostat'

export interface ChatBotDeps {
  chat: ChatStore
  store: Pick<Store, 'getRun' | 'getWorkflowVersion'>
  /** The workflows in force (the registry). */
  workflows: {
    get(id: string): { id: string; version: number; enabled: boolean } | undefined
    list(): Array<{ id: string }>
  }
  runs: Pick<RunService, 'submit'>
  now?: () => number
}

export interface ChatPost {
  text: string
  author: string
  blocks?: unknown[]
  attachments?: ChatAttachment[]
}

/** A chat command, parsed; `undefined` for plain text. */
export type ChatCommand =
  | { name: 'run'; workflow: string; inputs: Record<string, unknown> }
  | { name: 'status'; runId: string }
  | { name: 'help' }
  | { name: 'invalid'; problem: string }

const HELP = [
  'Commands:',
  '  /run <workflow> [json inputs]   start a run, e.g. /run hello {"name": "Ada"}',
  '  /status <run id>                show a run’s status',
  '  /help                           this list',
].join('\n')

/** Parses a chat command (pure). Plain text, and text starting with `//`, is not a command. */
export function parseChatCommand(text: string): ChatCommand | undefined {
  const trimmed = text.trim()
  if (!trimmed.startsWith('/') || trimmed.startsWith('//')) return undefined
  const match = /^\/([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(trimmed)
  if (!match) return { name: 'invalid', problem: `\`${trimmed.split(/\s/)[0]}\` is not a command; try /help` }
  const [, name, rest = ''] = match
  switch (name!.toLowerCase()) {
    case 'help':
      return { name: 'help' }
    case 'status': {
      const runId = rest.trim()
      if (!/^[A-Za-z0-9-]+$/.test(runId)) return { name: 'invalid', problem: 'usage: /status <run id>' }
      return { name: 'status', runId }
    }
    case 'run': {
      const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(rest.trim())
      if (!m) return { name: 'invalid', problem: 'usage: /run <workflow> [json inputs]' }
      const [, workflow, json] = m
      if (json === undefined || json.trim() === '') return { name: 'run', workflow: workflow!, inputs: {} }
      let inputs: unknown
      try {
        inputs = JSON.parse(json)
      } catch (err) {
        return { name: 'invalid', problem: `the inputs are not JSON: ${(err as Error).message}` }
      }
      if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs))
        return { name: 'invalid', problem: 'the inputs must be a JSON object, e.g. {"name": "Ada"}' }
      return { name: 'run', workflow: workflow!, inputs: inputs as Record<string, unknown> }
    }
    default:
      return { name: 'invalid', problem: `unknown command /${name}; try /help` }
  }
}

function outcomeLine(run: RunRecord): string {
  const icon = run.status === 'succeeded' ? '✓' : run.status === 'cancelled' ? '⊘' : '✗'
  const took = run.durationMs === undefined ? '' : ` in ${run.durationMs}ms`
  const error = run.error ? `: ${run.error.message}` : ''
  let output = ''
  if (run.status === 'succeeded' && run.output !== undefined && run.output !== null) {
    const text = JSON.stringify(run.output)
    output = `\noutput: ${text.length > 500 ? `${text.slice(0, 499)}…` : text}`
  }
  return `${icon} run ${run.id} of ${run.workflowId} ${run.status}${took}${error}${output}`
}

export class ChatBot {
  readonly #deps: ChatBotDeps
  readonly #now: () => number

  constructor(deps: ChatBotDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
  }

  /**
   * Stores a person's message in `session` and, for a command, the bot's answers. Throws
   * `HS_ERR_CHAT_INVALID` for a message that cannot be stored (nothing is stored then).
   */
  async post(session: string, post: ChatPost): Promise<{ message: ChatMessage; replies: ChatMessage[] }> {
    const problem = chatMessageProblem({ session, ...post })
    if (problem) throw new HsError('HS_ERR_CHAT_INVALID', problem)
    if (post.text.trim() === '') throw new HsError('HS_ERR_CHAT_INVALID', 'text is empty')
    const { message } = await this.#deps.chat.appendMessage({
      session,
      role: 'user',
      author: post.author,
      text: post.text,
      ...(post.blocks ? { blocks: post.blocks } : {}),
      ...(post.attachments ? { attachments: post.attachments } : {}),
      at: this.#now(),
    })
    const command = parseChatCommand(post.text)
    if (!command) return { message, replies: [] }
    const replies = [await this.#answer(session, message, command)]
    return { message, replies }
  }

  async #reply(session: string, text: string, runId?: string): Promise<ChatMessage> {
    const { message } = await this.#deps.chat.appendMessage({
      session,
      role: 'bot',
      author: CHAT_BOT_AUTHOR,
      text,
      ...(runId ? { runId } : {}),
      at: this.#now(),
    })
    return message
  }

  async #answer(session: string, asked: ChatMessage, command: ChatCommand): Promise<ChatMessage> {
    switch (command.name) {
      case 'help':
        return this.#reply(session, HELP)
      case 'invalid':
        return this.#reply(session, command.problem)
      case 'status': {
        const run = await this.#deps.store.getRun(command.runId)
        if (!run) return this.#reply(session, `no run ${command.runId}`)
        if (TERMINAL_RUN_STATUSES.has(run.status)) return this.#reply(session, outcomeLine(run), run.id)
        return this.#reply(session, `run ${run.id} of ${run.workflowId} is ${run.status}`, run.id)
      }
      case 'run':
        return this.#startRun(session, asked, command.workflow, command.inputs)
    }
  }

  async #startRun(
    session: string,
    asked: ChatMessage,
    workflow: string,
    inputs: Record<string, unknown>,
  ): Promise<ChatMessage> {
    const entry = this.#deps.workflows.get(workflow)
    if (!entry) {
      const known = this.#deps.workflows.list().map((w) => w.id)
      return this.#reply(
        session,
        `no workflow \`${workflow}\`${didYouMean(workflow, known) || '.'} Known: ${known.join(', ') || 'none'}`,
      )
    }
    if (!entry.enabled) return this.#reply(session, `workflow ${workflow} is disabled`)
    const record = await this.#deps.store.getWorkflowVersion(workflow, entry.version)
    if (!record) return this.#reply(session, `workflow ${workflow} version ${entry.version} is not stored`)
    let runId: string
    try {
      runId = await this.#deps.runs.submit(
        record,
        inputs,
        { type: 'chat', session, messageId: asked.id, author: asked.author },
        { enabledCheck: false },
      )
    } catch (err) {
      if (err instanceof HsError) return this.#reply(session, `cannot start ${workflow}: ${err.message}`)
      throw err
    }
    return this.#reply(session, `▶ started run ${runId} of ${workflow} (version ${entry.version})`, runId)
  }

  /**
   * Posts the outcome of a run started from chat (trigger type `chat`) in its session, once per run
   * attempt (a second call for the same attempt finds the message posted). Other runs, and runs not
   * yet finished, are left alone. Returns the message when there is one.
   */
  async announceOutcome(runId: string): Promise<ChatMessage | undefined> {
    const run = await this.#deps.store.getRun(runId)
    if (!run || run.trigger.type !== 'chat' || typeof run.trigger.session !== 'string') return undefined
    if (!TERMINAL_RUN_STATUSES.has(run.status)) return undefined
    const { message } = await this.#deps.chat.appendMessage({
      session: run.trigger.session,
      role: 'bot',
      author: CHAT_BOT_AUTHOR,
      text: outcomeLine(run),
      runId: run.id,
      at: this.#now(),
      idempotencyKey: `chat.outcome:${run.id}:${run.attempt}`,
    })
    return message
  }
}
