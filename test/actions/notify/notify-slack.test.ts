import assert from 'node:assert/strict'
import { beforeEach, describe, test } from 'node:test'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import { notifyActions } from '../../../src/actions/notify-actions.ts'
import { NonRetryableError } from '../../../src/core/errors.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { startServer } from '../http/servers.ts'

/**
 * A Slack incoming-webhook stand-in on 127.0.0.1 answering as Slack does: `ok` (text/html) for a
 * good payload, and the error strings of the webhook docs (`invalid_payload`, `no_text`,
 * `channel_not_found`, ...) with their statuses; `/rate-limited` answers 429 once.
 */
const TOKEN_PATH = '/services/T0001/B0002/s3cr3tT0k3nXYZ'
let limited = 0
const slack = await startServer((req, res, hit) => {
  const reply = (status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'text/html' })
    res.end(text)
  }
  if (req.method !== 'POST') return reply(405, 'invalid_method')
  if (req.url === '/services/T0001/B0002/archived') return reply(410, 'channel_is_archived')
  if (req.url === '/services/T0001/B0002/gone') return reply(404, 'channel_not_found')
  if (req.url === '/rate-limited' && limited++ === 0) {
    res.writeHead(429, { 'retry-after': '0' })
    return res.end('rate_limited')
  }
  let payload: { text?: unknown; blocks?: unknown }
  try {
    payload = JSON.parse(hit.body) as typeof payload
  } catch {
    return reply(400, 'invalid_payload')
  }
  if (payload.text === undefined && payload.blocks === undefined) return reply(400, 'no_text')
  reply(200, 'ok')
})
const hook = `${slack.origin}${TOKEN_PATH}`

const secrets = { get: (n: string) => (n === 'SLACK_HOOK' ? hook : undefined), names: () => ['SLACK_HOOK'] }
function slackAction(overrides: Partial<ActionServices> = {}) {
  return notifyActions({
    ...DEFAULT_ACTION_SERVICES,
    http: { ...DEFAULT_ACTION_SERVICES.http, allow: [`127.0.0.1:${slack.port}`] },
    secrets,
    ...overrides,
  }).find((a) => a.type === 'notify.slack')!
}
const action = slackAction()

beforeEach(() => {
  slack.hits.length = 0
})

describe('notify.slack against an incoming-webhook server', () => {
  test('posts text, blocks and the optional fields as Slack JSON', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deploy* done' } }]
    const out = await runAction(action, {
      webhook_url: hook,
      text: 'Deploy done',
      blocks,
      channel: '#ops',
      username: 'homeostat',
      icon_emoji: ':robot_face:',
    })
    assert.deepEqual(out, { ok: true, status: 200, response: 'ok' })
    assert.equal(slack.hits.length, 1)
    assert.equal(slack.hits[0]!.url, TOKEN_PATH)
    assert.equal(slack.hits[0]!.headers['content-type'], 'application/json; charset=utf-8')
    assert.deepEqual(JSON.parse(slack.hits[0]!.body), {
      text: 'Deploy done',
      blocks,
      channel: '#ops',
      username: 'homeostat',
      icon_emoji: ':robot_face:',
    })
  })

  test('the webhook URL can come from a secret named in config; it is never logged or returned', async () => {
    const fromSecret = slackAction({ notify: { slack: { webhookUrlSecret: 'SLACK_HOOK' } } })
    const ctx = actionContext()
    const out = await runAction(fromSecret, { text: 'from the secret' }, ctx)
    assert.equal(slack.hits[0]!.url, TOKEN_PATH)
    assert.ok(!JSON.stringify(out).includes('s3cr3tT0k3n'))
    assert.ok(!ctx.logs.join('\n').includes('s3cr3tT0k3n'))
    assert.ok(ctx.logs.some((l) => l.includes(`posted to Slack webhook ${slack.origin}/…`)))
  })

  test('the webhook URL can come from config directly', async () => {
    const fromConfig = slackAction({ notify: { slack: { webhookUrl: hook } } })
    await runAction(fromConfig, { text: 'from config' })
    assert.equal(JSON.parse(slack.hits[0]!.body).text, 'from config')
  })

  test("Slack's error text fails the step, non-retryable, without the token in the message", async () => {
    for (const [path, error, status] of [
      ['/services/T0001/B0002/gone', 'channel_not_found', 404],
      ['/services/T0001/B0002/archived', 'channel_is_archived', 410],
    ] as const) {
      await assert.rejects(runAction(action, { webhook_url: `${slack.origin}${path}`, text: 'x' }), (err) => {
        assert.ok(err instanceof NonRetryableError)
        assert.equal((err as { code?: string }).code, 'HS_ERR_NOTIFY_FAILED')
        assert.equal(
          err.message,
          `notify.slack: Slack webhook ${slack.origin}/… answered ${status}: ${error}`,
        )
        return true
      })
    }
  })

  test('a 429 with Retry-After is retried', async () => {
    const out = await runAction(action, { webhook_url: `${slack.origin}/rate-limited`, text: 'again' })
    assert.deepEqual(out, { ok: true, status: 200, response: 'ok' })
    assert.equal(slack.hits.length, 2)
  })

  test('neither text nor blocks is refused before sending', async () => {
    await assert.rejects(
      runAction(action, { webhook_url: hook, channel: '#x' }),
      /give `text`, `blocks`, or both/,
    )
    assert.equal(slack.hits.length, 0)
  })

  test('no webhook anywhere, or a secret that is not set, says what to configure', async () => {
    await assert.rejects(runAction(action, { text: 'x' }), (err) => {
      assert.equal((err as { code?: string }).code, 'HS_ERR_NOTIFY_CONFIG')
      assert.match((err as Error).message, /pass `webhook_url`, or set notify.slack.webhook_url_secret/)
      return true
    })
    const unset = slackAction({ notify: { slack: { webhookUrlSecret: 'NOPE' } } })
    await assert.rejects(runAction(unset, { text: 'x' }), /secret "NOPE", which is not set/)
  })

  test('the webhook URL goes through the destination guard (and the refusal hides its path)', async () => {
    await assert.rejects(
      runAction(action, { webhook_url: 'http://169.254.169.254/services/T/B/tok3n', text: 'x' }),
      (err) => {
        assert.equal((err as { code?: string }).code, 'HS_ERR_HTTP_DESTINATION_DENIED')
        assert.match(
          (err as Error).message,
          /^refused POST Slack webhook http:\/\/169\.254\.169\.254\/…: .*metadata/,
        )
        assert.ok(!(err as Error).message.includes('tok3n'))
        return true
      },
    )
    const unguarded = slackAction({ http: DEFAULT_ACTION_SERVICES.http })
    await assert.rejects(runAction(unguarded, { webhook_url: hook, text: 'x' }), /loopback/)
    assert.equal(slack.hits.length, 0)
  })

  test('plan() checks the destination and says what would be posted, without sending', async () => {
    const plan = await action.plan!(
      { webhook_url: hook, text: 'hello', blocks: [{ type: 'divider' }] },
      actionContext(),
    )
    assert.equal(plan.summary, `post 5 characters and 1 blocks to Slack webhook ${slack.origin}/…`)
    assert.ok(!JSON.stringify(plan).includes('s3cr3tT0k3n'))
    assert.equal(slack.hits.length, 0)
  })
})
