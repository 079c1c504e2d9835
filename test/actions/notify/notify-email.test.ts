import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import { notifyActions } from '../../../src/actions/notify-actions.ts'
import { NonRetryableError } from '../../../src/core/errors.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { selfSignedCert, startSmtpServer } from '../../helpers/smtp.ts'
import { tempDir } from '../../helpers/tmp.ts'

const PASSWORD = 'pw-7c1e-canary'
const tls = await selfSignedCert(tempDir())
const plain = await startSmtpServer({ rejectRecipients: ['nobody@example.org'] })
const secure = await startSmtpServer({ tls, auth: { user: 'robot', password: PASSWORD } })
after(() => Promise.all([plain.close(), secure.close()]))

type Email = NonNullable<ActionServices['notify']['email']>
const secretValues: Record<string, string> = { SMTP_PASSWORD: PASSWORD, WRONG: 'not-it' }
function emailAction(email: Email | undefined) {
  return notifyActions({
    ...DEFAULT_ACTION_SERVICES,
    notify: email ? { email } : {},
    secrets: { get: (n) => secretValues[n], names: () => Object.keys(secretValues) },
  }).find((a) => a.type === 'notify.email')!
}
const plainAction = emailAction({ host: plain.host, port: plain.port, from: 'homeostat <bot@example.com>' })
const starttls = (extra: Partial<Email> = {}): Email => ({
  host: secure.host,
  port: secure.port,
  from: 'bot@example.com',
  user: 'robot',
  password_secret: 'SMTP_PASSWORD',
  starttls: 'required',
  tls: { ca_file: tls.certFile, servername: 'localhost' },
  ...extra,
})
type Out = { message_id: string; accepted: string[]; rejected: string[]; response: string }

describe('notify.email over plain SMTP', () => {
  test('delivers the message: headers, body, envelope with bcc, a stable Message-ID', async () => {
    const ctx = actionContext({ idempotencyKey: 'run-mail:notify:0' })
    const out = (await runAction(
      plainAction,
      {
        to: ['ops@example.com', 'dev@example.com'],
        cc: 'lead@example.com',
        bcc: 'audit@example.com',
        subject: 'Disk almost full on db-1',
        text: 'Free space is at 4%.\nA cleanup ran.',
        headers: { 'X-Homeostat-Run': 'run-mail' },
      },
      ctx,
    )) as Out
    const mail = plain.messages.at(-1)!
    assert.equal(mail.from, 'bot@example.com')
    assert.deepEqual(mail.to, ['ops@example.com', 'dev@example.com', 'lead@example.com', 'audit@example.com'])
    assert.equal(mail.headers.subject, 'Disk almost full on db-1')
    assert.equal(mail.headers.from, 'homeostat <bot@example.com>')
    assert.equal(mail.headers.to, 'ops@example.com, dev@example.com')
    assert.equal(mail.headers.cc, 'lead@example.com')
    assert.equal(mail.headers.bcc, undefined)
    assert.equal(mail.headers['x-homeostat-run'], 'run-mail')
    assert.match(mail.raw, /Free space is at 4%\.\r?\nA cleanup ran\./)
    assert.equal(mail.secure, false)
    assert.equal(mail.headers['message-id'], out.message_id)
    assert.match(out.message_id, /^<homeostat\.[0-9a-f]{32}@example\.com>$/)
    assert.deepEqual(out.accepted.sort(), [
      'audit@example.com',
      'dev@example.com',
      'lead@example.com',
      'ops@example.com',
    ])
    assert.deepEqual(out.rejected, [])
    assert.match(out.response, /^250 /)
    const again = (await runAction(
      plainAction,
      { to: 'ops@example.com', subject: 's', text: 't' },
      actionContext({ idempotencyKey: 'run-mail:notify:0' }),
    )) as Out
    assert.equal(again.message_id, out.message_id, 'the same step sends the same Message-ID')
  })

  test('text and html go as a multipart message', async () => {
    await runAction(plainAction, {
      to: 'ops@example.com',
      subject: 'Report',
      text: 'plain part',
      html: '<p>html <b>part</b></p>',
    })
    const mail = plain.messages.at(-1)!
    assert.match(mail.headers['content-type']!, /^multipart\/alternative/)
    assert.match(mail.raw, /plain part/)
    assert.match(mail.raw, /<p>html <b>part<\/b><\/p>/)
  })

  test('a refused recipient is reported while the others get the message', async () => {
    const out = (await runAction(plainAction, {
      to: ['ops@example.com', 'nobody@example.org'],
      subject: 'Partial',
      text: 'x',
    })) as Out
    assert.deepEqual(out.accepted, ['ops@example.com'])
    assert.deepEqual(out.rejected, ['nobody@example.org'])
    assert.deepEqual(plain.messages.at(-1)!.to, ['ops@example.com'])
  })

  test('when every recipient is refused the step fails, non-retryable, with the server reply', async () => {
    await assert.rejects(
      runAction(plainAction, { to: 'nobody@example.org', subject: 'None', text: 'x' }),
      (err) => {
        assert.ok(err instanceof NonRetryableError)
        assert.equal((err as { code?: string }).code, 'HS_ERR_NOTIFY_FAILED')
        assert.match(
          err.message,
          new RegExp(`smtp://127\\.0\\.0\\.1:${plain.port}.*refused the message \\(EENVELOPE\\).*550`),
        )
        return true
      },
    )
  })

  test('a line break in a header field is refused before connecting', async () => {
    const count = plain.messages.length
    await assert.rejects(
      runAction(plainAction, { to: 'ops@example.com', subject: 'hi\r\nBcc: victim@example.org', text: 'x' }),
      /subject contains a line break/,
    )
    await assert.rejects(
      runAction(plainAction, { to: 'ops@example.com\nvictim@example.org', subject: 's', text: 'x' }),
      /to contains a line break/,
    )
    assert.equal(plain.messages.length, count)
  })

  test('STARTTLS required against a server without it fails, non-retryable', async () => {
    const action = emailAction({
      host: plain.host,
      port: plain.port,
      from: 'bot@example.com',
      starttls: 'required',
    })
    await assert.rejects(runAction(action, { to: 'ops@example.com', subject: 's', text: 'x' }), (err) => {
      assert.equal((err as { code?: string }).code, 'HS_ERR_NOTIFY_FAILED')
      assert.match((err as Error).message, /STARTTLS/)
      return true
    })
  })
})

describe('notify.email over STARTTLS with a self-signed certificate', () => {
  test('the certificate is refused unless trusted', async () => {
    const action = emailAction(starttls({ tls: {} }))
    await assert.rejects(runAction(action, { to: 'ops@example.com', subject: 's', text: 'x' }), (err) => {
      assert.ok(err instanceof NonRetryableError)
      assert.match(err.message, /self[- ]signed certificate/i)
      return true
    })
  })

  test('with ca_file and servername it upgrades, logs in with the password secret, and delivers', async () => {
    const ctx = actionContext()
    const out = (await runAction(
      emailAction(starttls()),
      { to: 'ops@example.com', subject: 'Encrypted', text: 'over TLS' },
      ctx,
    )) as Out
    const mail = secure.messages.at(-1)!
    assert.equal(mail.secure, true)
    assert.equal(mail.user, 'robot')
    assert.equal(mail.headers.subject, 'Encrypted')
    assert.deepEqual(out.accepted, ['ops@example.com'])
    assert.ok(!JSON.stringify(out).includes(PASSWORD) && !ctx.logs.join('\n').includes(PASSWORD))
  })

  test('reject_unauthorized: false accepts the certificate without a CA file', async () => {
    await runAction(emailAction(starttls({ tls: { reject_unauthorized: false } })), {
      to: 'ops@example.com',
      subject: 'Loose',
      text: 'x',
    })
    assert.equal(secure.messages.at(-1)!.headers.subject, 'Loose')
  })

  test('a wrong password fails non-retryably (EAUTH), without the password in the message', async () => {
    await assert.rejects(
      runAction(emailAction(starttls({ password_secret: 'WRONG' })), {
        to: 'ops@example.com',
        subject: 's',
        text: 'x',
      }),
      (err) => {
        assert.ok(err instanceof NonRetryableError)
        assert.match(err.message, /EAUTH/)
        assert.ok(!err.message.includes('not-it'))
        return true
      },
    )
  })
})

describe('notify.email configuration and dry run', () => {
  test('no SMTP host, no sender, or an unset password secret say what to configure', async () => {
    await assert.rejects(
      runAction(emailAction(undefined), { to: 'a@example.com', subject: 's', text: 'x' }),
      /set notify.email.host/,
    )
    await assert.rejects(
      runAction(emailAction({ host: plain.host, port: plain.port }), {
        to: 'a@example.com',
        subject: 's',
        text: 'x',
      }),
      /no sender/,
    )
    await assert.rejects(
      runAction(emailAction(starttls({ password_secret: 'MISSING' })), {
        to: 'a@example.com',
        subject: 's',
        text: 'x',
      }),
      (err) => {
        assert.equal((err as { code?: string }).code, 'HS_ERR_NOTIFY_CONFIG')
        assert.match((err as Error).message, /secret "MISSING", which is not set/)
        return true
      },
    )
  })

  test('plan() lists recipients, subject and server, and sends nothing', async () => {
    const count = plain.messages.length
    const plan = await plainAction.plan!(
      { to: 'ops@example.com', bcc: ['audit@example.com'], subject: 'Weekly', text: 'body' },
      actionContext(),
    )
    assert.equal(
      plan.summary,
      `email "Weekly" to 2 recipients via smtp://127.0.0.1:${plain.port} (STARTTLS auto)`,
    )
    assert.deepEqual((plan.details as { bcc: string[] }).bcc, ['audit@example.com'])
    assert.equal(plain.messages.length, count)
  })
})
