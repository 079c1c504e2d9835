import type { ActionContext, ActionDefinition, ActionPlan } from '../core/action.ts'
import {
  CHAT_LIMITS,
  CHAT_SESSION_PATTERN,
  chatMessageProblem,
  DEFAULT_CHAT_SESSION,
  type ChatAttachment,
  type ChatStore,
  type NewChatMessage,
} from '../core/chat-port.ts'
import { NonRetryableError } from '../core/errors.ts'

export interface ChatSendParams {
  text?: string
  /** The source document's name for `text`. */
  message?: string
  session?: string
  blocks?: unknown[]
  attachments?: ChatAttachment[]
}

export interface ChatSendOutput {
  messageId: number
  session: string
  at: number
  /** False when a retried step found its message already posted. */
  created: boolean
}

/**
 * The session a step posts to: its `session` parameter, else the session of the chat message that
 * started the run (`/run` in a session answers there), else `general`.
 */
export function chatSessionFor(params: ChatSendParams, ctx: ActionContext): string {
  if (params.session !== undefined) return params.session
  const trigger = ctx.context().trigger as { type?: unknown; session?: unknown } | undefined
  if (trigger?.type === 'chat' && typeof trigger.session === 'string') return trigger.session
  return DEFAULT_CHAT_SESSION
}

function message(params: ChatSendParams, ctx: ActionContext): NewChatMessage {
  if (params.text !== undefined && params.message !== undefined)
    throw new NonRetryableError('give `text` or `message` (its alias), not both')
  const text = params.text ?? params.message
  if (text === undefined) throw new NonRetryableError('`text` is required: the message to post')
  const m: NewChatMessage = {
    session: chatSessionFor(params, ctx),
    role: 'bot',
    author: `workflow:${ctx.run.workflow}`,
    text,
    ...(params.blocks ? { blocks: params.blocks } : {}),
    ...(params.attachments ? { attachments: params.attachments } : {}),
    runId: ctx.run.id,
    at: Date.now(),
    idempotencyKey: `chat.send:${ctx.idempotencyKey}`,
  }
  const problem = chatMessageProblem(m)
  if (problem) throw new NonRetryableError(problem)
  return m
}

function requireChat(chat: ChatStore | undefined): ChatStore {
  if (!chat)
    throw new NonRetryableError(
      'the chat channel is not available in this process; run the workflow with `homeostat serve`, `worker` or `run`',
    )
  return chat
}

const ATTACHMENT = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, description: 'File name or title a reader sees' },
    url: { type: 'string', description: 'Link to the attachment' },
    contentType: { type: 'string', description: 'MIME type, e.g. text/markdown' },
    text: { type: 'string', description: 'Inline content of a small text attachment' },
  },
  required: ['name'],
  additionalProperties: false,
}

/** The chat family: `chat.send`, writing through `chat` (absent: every call fails with a clear error). */
export function chatActions(chat: ChatStore | undefined): ActionDefinition[] {
  const send: ActionDefinition<ChatSendParams, ChatSendOutput> = {
    type: 'chat.send',
    description:
      'Posts a message to a session of the built-in chat channel (streamed to `homeostat chat tail` and the API).',
    params: {
      type: 'object',
      properties: {
        text: {
          type: 'string',
          maxLength: CHAT_LIMITS.maxText,
          description: 'The message (plain text or Markdown)',
        },
        message: {
          type: 'string',
          maxLength: CHAT_LIMITS.maxText,
          description: 'Alias of `text`, as the source document writes it',
        },
        session: {
          type: 'string',
          pattern: CHAT_SESSION_PATTERN.source,
          description:
            'Session to post to; default: the session whose `/run` started this run, else `general`',
        },
        blocks: {
          type: 'array',
          maxItems: CHAT_LIMITS.maxBlocks,
          items: { type: 'object' },
          description: 'Rich content blocks (e.g. Slack-style block objects) shown with the text',
        },
        attachments: {
          type: 'array',
          maxItems: CHAT_LIMITS.maxAttachments,
          items: ATTACHMENT,
          description: 'Files or links that go with the message',
        },
      },
      anyOf: [
        { properties: { text: true }, required: ['text'] },
        { properties: { message: true }, required: ['message'] },
      ],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        messageId: { type: 'integer', description: 'Id of the stored message (the `after` cursor of reads)' },
        session: { type: 'string', description: 'The session it was posted to' },
        at: { type: 'integer', description: 'When it was stored, in milliseconds since the epoch' },
        created: {
          type: 'boolean',
          description: 'False when a retried step found its message already posted',
        },
      },
      required: ['messageId', 'session', 'at', 'created'],
      additionalProperties: false,
    },
    sideEffects: true,
    execute: async (params, ctx) => {
      const m = message(params, ctx)
      const { message: stored, created } = await requireChat(chat).appendMessage(m)
      return { messageId: stored.id, session: stored.session, at: stored.at, created }
    },
    plan: (params, ctx): ActionPlan => {
      const m = message(params, ctx)
      requireChat(chat)
      const extras = [
        m.blocks ? `${m.blocks.length} block(s)` : '',
        m.attachments ? `${m.attachments.length} attachment(s)` : '',
      ].filter(Boolean)
      return {
        summary: `post ${m.text.length} characters${extras.length ? ` with ${extras.join(' and ')}` : ''} to chat session ${m.session}`,
        details: { session: m.session, author: m.author, text: m.text.slice(0, 500) },
      }
    },
  }
  return [send as unknown as ActionDefinition]
}
