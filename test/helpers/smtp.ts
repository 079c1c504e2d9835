import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'

/** A message as a real SMTP server received it. */
export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  readonly from: string
  /** Envelope recipients (RCPT TO), bcc included. */
  readonly to: string[]
  /** The whole message as sent (headers and body). */
  readonly raw: string
  /** Header fields, lower-case names, unfolded. */
  readonly headers: Record<string, string>
  /** Whether the session was encrypted (STARTTLS or TLS) when the message was sent. */
  readonly secure: boolean
  /** The user that authenticated, if any. */
  readonly user?: string
}

export interface SmtpTestServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly messages: ReceivedMail[]
  close(): Promise<void>
}

export interface SmtpTestOptions {
  /** Offer STARTTLS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string }
  /** Require this login (only over TLS, as real servers do). */
  readonly auth?: { readonly user: string; readonly password: string }
  /** Recipients refused at RCPT TO with 550. */
  readonly rejectRecipients?: readonly string[]
}

function parseHeaders(raw: string): Record<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? ''
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return headers
}

/** A real `smtp-server` on 127.0.0.1 (a free port) keeping every message it accepts. */
export async function startSmtpServer(options: SmtpTestOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = []
  const disabled = [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])]
  const config: SMTPServerOptions = {
    secure: false,
    logger: false,
    disabledCommands: disabled,
    authOptional: options.auth === undefined,
    allowInsecureAuth: false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.password)
        callback(null, { user: auth.username })
      else callback(new Error('535 5.7.8 Authentication credentials invalid'))
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.includes(address.address)) {
        const err = new Error(`550 5.1.1 <${address.address}>: Recipient address rejected`) as Error & {
          responseCode: number
        }
        err.responseCode = 550
        callback(err)
      } else callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const from = session.envelope.mailFrom
        messages.push({
          from: from ? from.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers: parseHeaders(raw),
          secure: session.secure,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        })
        callback()
      })
    },
  }
  const server = new SMTPServer(config)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    host: '127.0.0.1',
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * A self-signed certificate for `localhost` / 127.0.0.1 made with `openssl req` in `dir`: the key,
 * the certificate, and the certificate's path (to trust it as a CA file).
 */
export async function selfSignedCert(dir: string): Promise<{ key: string; cert: string; certFile: string }> {
  const keyFile = join(dir, 'smtp-key.pem')
  const certFile = join(dir, 'smtp-cert.pem')
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ])
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile }
}
