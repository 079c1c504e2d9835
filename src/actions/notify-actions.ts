import type { ActionContext, ActionDefinition, ActionPlan } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'
import { CodedError, CodedNonRetryableError } from './net/errors.ts'
import type { GuardedHttpClient } from './net/guarded-client.ts'
import { DURATION_SCHEMA, durationMs, guardedClient } from './net/params.ts'
import { isRetryableStatus, sendWithRetries, statusError } from './net/retries.ts'
import { messageIdFor, sendMail, smtpTarget, type EmailSettings, type MailMessage } from './net/smtp-mail.ts'

export interface SlackParams {
  webhook_url?: string
  text?: string
  blocks?: Record<string, unknown>[]
  channel?: string
  username?: string
  icon_emoji?: string
  icon_url?: string
  thread_ts?: string
  unfurl_links?: boolean
  timeout?: string | number
}

export interface EmailParams {
  to: string | string[]
  cc?: string | string[]
  bcc?: string | string[]
  from?: string
  reply_to?: string
  subject: string
  text?: string
  html?: string
  headers?: Record<string, string>
  timeout?: string | number
}

const ADDRESSES = {
  anyOf: [
    { type: 'string', minLength: 3 },
    { type: 'array', items: { type: 'string', minLength: 3 }, minItems: 1 },
  ],
}

/** Where a webhook URL is shown: its origin only, since the path is the credential. */
function webhookLabel(url: string): string {
  try {
    return `Slack webhook ${new URL(url).origin}/…`
  } catch {
    return 'Slack webhook (invalid URL)'
  }
}

function webhookUrl(services: ActionServices, params: SlackParams): string {
  if (params.webhook_url) return params.webhook_url
  const slack = services.notify.slack
  if (slack?.webhookUrl) return slack.webhookUrl
  if (slack?.webhookUrlSecret) {
    const value = services.secrets.get(slack.webhookUrlSecret)
    if (!value)
      throw new CodedNonRetryableError(
        'HS_ERR_NOTIFY_CONFIG',
        `notify.slack: the webhook URL comes from secret ${JSON.stringify(slack.webhookUrlSecret)}, which is not set (homeostat secrets set ${slack.webhookUrlSecret})`,
      )
    return value
  }
  throw new CodedNonRetryableError(
    'HS_ERR_NOTIFY_CONFIG',
    'notify.slack: no webhook URL: pass `webhook_url`, or set notify.slack.webhook_url_secret in homeostat.yaml',
  )
}

function slackPayload(params: SlackParams): Record<string, unknown> {
  if (!params.text && !(params.blocks && params.blocks.length > 0))
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'notify.slack: give `text`, `blocks`, or both')
  const payload: Record<string, unknown> = {}
  for (const key of [
    'text',
    'blocks',
    'channel',
    'username',
    'icon_emoji',
    'icon_url',
    'thread_ts',
    'unfurl_links',
  ] as const) {
    if (params[key] !== undefined) payload[key] = params[key]
  }
  return payload
}

async function postSlack(
  client: GuardedHttpClient,
  services: ActionServices,
  params: SlackParams,
  ctx: ActionContext,
): Promise<{ ok: true; status: number; response: string }> {
  const payload = slackPayload(params)
  const url = webhookUrl(services, params)
  const label = webhookLabel(url)
  const { response, attempts, retryAfterMs } = await sendWithRetries(
    client,
    {
      method: 'POST',
      url,
      label: `POST ${label}`,
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'homeostat' },
      body: JSON.stringify(payload),
      timeoutMs: durationMs(params.timeout, 'notify.slack timeout', services.http.timeoutMs),
      maxResponseBytes: Math.min(64 * 1024, services.http.maxResponse),
      signal: ctx.signal,
      maxRedirects: 0,
    },
    {
      retries: 2,
      onRetry: ({ attempt, delayMs, why }) =>
        ctx.logger.warn(`${label}: attempt ${attempt} ${why}; retrying in ${delayMs}ms`),
    },
  )
  const text = response.body.toString('utf8').trim()
  let answer: { ok?: unknown; error?: unknown } | undefined
  try {
    answer = text.startsWith('{') ? (JSON.parse(text) as { ok?: unknown; error?: unknown }) : undefined
  } catch {
    answer = undefined
  }
  const ok = response.status >= 200 && response.status < 300 && answer?.ok !== false
  if (!ok) {
    const error = typeof answer?.error === 'string' ? answer.error : text.slice(0, 200) || response.statusText
    const message = `notify.slack: ${label} answered ${response.status}: ${error}`
    if (response.status >= 200 && response.status < 300)
      throw new CodedNonRetryableError('HS_ERR_NOTIFY_FAILED', message)
    throw isRetryableStatus(response.status)
      ? statusError('HS_ERR_NOTIFY_FAILED', response.status, message, retryAfterMs)
      : new CodedNonRetryableError('HS_ERR_NOTIFY_FAILED', message)
  }
  ctx.logger.info(`notify.slack: posted to ${label}`, { status: response.status, attempts })
  return { ok: true, status: response.status, response: text }
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined
    ? []
    : (Array.isArray(value) ? value : value.split(',')).map((a) => a.trim()).filter(Boolean)

/** Refuses CR/LF in anything that becomes a header: a newline there would add headers or recipients. */
function headerSafe(where: string, value: string): string {
  if (/[\r\n]/.test(value))
    throw new CodedNonRetryableError(
      'HS_ERR_ACTION_PARAMS',
      `notify.email: ${where} contains a line break, which is not allowed in a mail header`,
    )
  return value
}

function emailSettings(services: ActionServices): EmailSettings {
  const email = services.notify.email
  if (!email?.host)
    throw new CodedNonRetryableError(
      'HS_ERR_NOTIFY_CONFIG',
      'notify.email: no SMTP server: set notify.email.host in homeostat.yaml',
    )
  return email
}

function mailMessage(email: EmailSettings, params: EmailParams): MailMessage {
  const from = params.from ?? email.from
  if (!from)
    throw new CodedNonRetryableError(
      'HS_ERR_NOTIFY_CONFIG',
      'notify.email: no sender: pass `from` or set notify.email.from in homeostat.yaml',
    )
  if (params.text === undefined && params.html === undefined)
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'notify.email: give `text`, `html`, or both')
  const to = list(params.to).map((a) => headerSafe('to', a))
  if (to.length === 0)
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'notify.email: `to` names no recipient')
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(params.headers ?? {})) {
    if (!/^[A-Za-z0-9-]+$/.test(name))
      throw new CodedNonRetryableError(
        'HS_ERR_ACTION_PARAMS',
        `notify.email: header name ${JSON.stringify(name)} is not a valid header name`,
      )
    headers[name] = headerSafe(`header ${name}`, value)
  }
  return {
    from: headerSafe('from', from),
    to,
    cc: list(params.cc).map((a) => headerSafe('cc', a)),
    bcc: list(params.bcc).map((a) => headerSafe('bcc', a)),
    ...(params.reply_to ? { replyTo: headerSafe('reply_to', params.reply_to) } : {}),
    subject: headerSafe('subject', params.subject),
    ...(params.text === undefined ? {} : { text: params.text }),
    ...(params.html === undefined ? {} : { html: params.html }),
    headers,
  }
}

function smtpPassword(services: ActionServices, email: EmailSettings): string | undefined {
  if (!email.password_secret) return undefined
  const value = services.secrets.get(email.password_secret)
  if (value === undefined)
    throw new CodedNonRetryableError(
      'HS_ERR_NOTIFY_CONFIG',
      `notify.email: the SMTP password comes from secret ${JSON.stringify(email.password_secret)}, which is not set (homeostat secrets set ${email.password_secret})`,
    )
  return value
}

/**
 * `notify.slack` (an incoming webhook, through the destination guard; the webhook URL is never
 * logged or returned) and `notify.email` (SMTP through nodemailer, TLS settings from
 * `notify.email`; the SMTP server comes from the configuration only, so it is not guarded).
 */
export function notifyActions(services: ActionServices): ActionDefinition[] {
  const client = guardedClient(services)
  const slack: ActionDefinition<SlackParams, { ok: true; status: number; response: string }> = {
    type: 'notify.slack',
    description: 'Posts a message (text and/or Block Kit blocks) to a Slack incoming webhook.',
    params: {
      type: 'object',
      properties: {
        webhook_url: {
          type: 'string',
          description: 'Incoming webhook URL; default notify.slack (its secret) in homeostat.yaml',
        },
        text: {
          type: 'string',
          description: 'Message text (mrkdwn); the notification fallback when blocks are given',
        },
        blocks: { type: 'array', items: { type: 'object' }, description: 'Block Kit blocks' },
        channel: { type: 'string', description: 'Channel override (legacy webhooks only)' },
        username: { type: 'string', description: 'Sender name override (legacy webhooks only)' },
        icon_emoji: {
          type: 'string',
          description: 'Sender icon as an emoji, e.g. `:robot_face:` (legacy webhooks only)',
        },
        icon_url: { type: 'string', description: 'Sender icon URL (legacy webhooks only)' },
        thread_ts: { type: 'string', description: 'Reply in the thread of this message timestamp' },
        unfurl_links: { type: 'boolean', description: 'Let Slack unfurl links in the text' },
        timeout: { ...DURATION_SCHEMA, description: 'Limit of one attempt. Default `http.timeout`' },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        ok: { type: 'boolean', description: 'Always true (a refused message fails the step)' },
        status: { type: 'integer', description: 'HTTP status of the answer' },
        response: { type: 'string', description: "Slack's answer body (`ok`)" },
      },
      required: ['ok', 'status', 'response'],
    },
    sideEffects: true,
    execute: (params, ctx) => postSlack(client, services, params, ctx),
    plan: async (params): Promise<ActionPlan> => {
      slackPayload(params)
      const url = webhookUrl(services, params)
      const label = webhookLabel(url)
      const check = await client.guard.require(url, `POST ${label}`)
      const blocks = params.blocks?.length ?? 0
      const textChars = params.text?.length ?? 0
      return {
        summary: `post ${textChars} characters${blocks ? ` and ${blocks} blocks` : ''} to ${label}`,
        details: {
          url: label,
          textChars,
          blocks,
          guard: { allowed: true, reason: check.reason },
        },
      }
    },
  }
  const email: ActionDefinition<EmailParams, Record<string, unknown>> = {
    type: 'notify.email',
    description: 'Sends an email over SMTP (TLS or STARTTLS) to the given recipients.',
    params: {
      type: 'object',
      properties: {
        to: { ...ADDRESSES, description: 'Recipients: an address, a comma-separated list, or a list' },
        cc: { ...ADDRESSES, description: 'Copy recipients' },
        bcc: { ...ADDRESSES, description: 'Blind copy recipients (not shown in the headers)' },
        from: { type: 'string', description: 'Sender; default notify.email.from' },
        reply_to: { type: 'string', description: 'Reply-To address' },
        subject: { type: 'string', description: 'Subject line (no line breaks)' },
        text: { type: 'string', description: 'Plain-text body' },
        html: { type: 'string', description: 'HTML body' },
        headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers' },
        timeout: {
          ...DURATION_SCHEMA,
          description: 'Limit of each SMTP phase (connect, greeting, idle). Default 30s',
        },
      },
      required: ['to', 'subject'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        message_id: {
          type: 'string',
          description: 'Message-ID (stable for the step: derived from its idempotency key)',
        },
        accepted: { type: 'array', items: { type: 'string' }, description: 'Recipients the server accepted' },
        rejected: { type: 'array', items: { type: 'string' }, description: 'Recipients the server refused' },
        response: { type: 'string', description: "The server's final reply" },
      },
      required: ['message_id', 'accepted', 'rejected', 'response'],
    },
    sideEffects: true,
    execute: async (params, ctx) => {
      const settings = emailSettings(services)
      const message = mailMessage(settings, params)
      const password = smtpPassword(services, settings)
      const timeoutMs = durationMs(params.timeout, 'notify.email timeout', 30_000)
      const result = await sendMail(
        settings,
        password,
        message,
        messageIdFor(ctx.idempotencyKey, message.from),
        timeoutMs,
        ctx.signal,
      )
      if (result.accepted.length === 0)
        throw new CodedError(
          'HS_ERR_NOTIFY_FAILED',
          `notify.email: ${smtpTarget(settings)} accepted no recipient (refused: ${result.rejected.join(', ')})`,
        )
      ctx.logger.info(
        `notify.email: sent to ${result.accepted.length} recipients via ${smtpTarget(settings)}`,
        {
          rejected: result.rejected.length,
        },
      )
      return {
        message_id: result.messageId,
        accepted: result.accepted,
        rejected: result.rejected,
        response: result.response,
      }
    },
    plan: (params, ctx) => {
      const settings = emailSettings(services)
      const message = mailMessage(settings, params)
      smtpPassword(services, settings)
      const recipients = [...message.to, ...message.cc, ...message.bcc]
      return {
        summary: `email ${JSON.stringify(message.subject)} to ${recipients.length} recipients via ${smtpTarget(settings)}`,
        details: {
          smtp: smtpTarget(settings),
          from: message.from,
          to: message.to,
          cc: message.cc,
          bcc: message.bcc,
          subject: message.subject,
          bodyChars: (message.text?.length ?? 0) + (message.html?.length ?? 0),
          messageId: messageIdFor(ctx.idempotencyKey, message.from),
        },
      }
    },
  }
  return [slack as unknown as ActionDefinition, email as unknown as ActionDefinition]
}
