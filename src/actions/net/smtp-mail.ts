import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import nodemailer from 'nodemailer'
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js'
import type { ActionServices } from '../action-services.ts'
import { CodedError, CodedNonRetryableError } from './errors.ts'

export type EmailSettings = NonNullable<ActionServices['notify']['email']>

/** One message, addresses already checked. */
export interface MailMessage {
  readonly from: string
  readonly to: readonly string[]
  readonly cc: readonly string[]
  readonly bcc: readonly string[]
  readonly replyTo?: string
  readonly subject: string
  readonly text?: string
  readonly html?: string
  readonly headers: Readonly<Record<string, string>>
}

export interface MailResult {
  readonly messageId: string
  readonly accepted: string[]
  readonly rejected: string[]
  readonly response: string
}

/** Where the mail goes, for plans and messages (never the password). */
export function smtpTarget(email: EmailSettings): string {
  const port = email.port ?? (email.secure ? 465 : 587)
  const tls = email.secure ? 'TLS' : `STARTTLS ${email.starttls ?? 'auto'}`
  return `smtp://${email.host}:${port} (${tls})`
}

/**
 * A stable Message-ID from the step's idempotency key, so a step retried after a crash sends a
 * message its recipients' servers can recognise as the same one.
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'homeostat.invalid'
  return `<homeostat.${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@${domain}>`
}

function transportOptions(
  email: EmailSettings,
  password: string | undefined,
  timeoutMs: number,
): SMTPTransport.Options {
  let ca: string | undefined
  if (email.tls?.ca_file) {
    try {
      ca = readFileSync(email.tls.ca_file, 'utf8')
    } catch (err) {
      throw new CodedNonRetryableError(
        'HS_ERR_NOTIFY_CONFIG',
        `notify.email: cannot read notify.email.tls.ca_file ${email.tls.ca_file}: ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  return {
    host: email.host!,
    ...(email.port === undefined ? {} : { port: email.port }),
    secure: email.secure ?? false,
    requireTLS: email.starttls === 'required',
    ignoreTLS: email.starttls === 'off',
    ...(email.user ? { auth: { user: email.user, pass: password ?? '' } } : {}),
    tls: {
      rejectUnauthorized: email.tls?.reject_unauthorized ?? true,
      ...(ca === undefined ? {} : { ca }),
      ...(email.tls?.servername ? { servername: email.tls.servername } : {}),
    },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  }
}

const addresses = (list: ReadonlyArray<string | { address: string }>): string[] =>
  list.map((a) => (typeof a === 'string' ? a : a.address))

/** nodemailer's error as the engine needs it: authentication, TLS and 5xx replies are not retried. */
function mailError(err: unknown, target: string): Error {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string }
  const reply = e.response ? `: ${e.response}` : e.message ? `: ${e.message}` : ''
  const message = `notify.email: ${target} refused the message (${e.code ?? 'error'})${reply}`
  const permanent =
    e.code === 'EAUTH' ||
    e.code === 'ETLS' ||
    e.code === 'EENVELOPE' ||
    e.code === 'EMESSAGE' ||
    (typeof e.responseCode === 'number' && e.responseCode >= 500) ||
    /certificate|self[- ]signed/i.test(e.message ?? '')
  return permanent
    ? new CodedNonRetryableError('HS_ERR_NOTIFY_FAILED', message, { cause: err })
    : new CodedError('HS_ERR_NOTIFY_FAILED', message, { cause: err })
}

/**
 * Sends one message over SMTP with the configured TLS settings. Aborting `signal` abandons the
 * exchange (the connection is closed by its socket timeout).
 */
export async function sendMail(
  email: EmailSettings,
  password: string | undefined,
  message: MailMessage,
  messageId: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<MailResult> {
  const target = smtpTarget(email)
  const transport = nodemailer.createTransport(transportOptions(email, password, timeoutMs))
  const sending = transport.sendMail({
    from: message.from,
    to: [...message.to],
    ...(message.cc.length ? { cc: [...message.cc] } : {}),
    ...(message.bcc.length ? { bcc: [...message.bcc] } : {}),
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: message.subject,
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(message.html === undefined ? {} : { html: message.html }),
    headers: { ...message.headers },
    messageId,
  })
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    const info = await Promise.race([sending, aborted])
    return {
      messageId: info.messageId,
      accepted: addresses(info.accepted),
      rejected: addresses(info.rejected),
      response: info.response,
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason
    throw mailError(err, target)
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    sending.catch(() => {})
    transport.close()
  }
}
