import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, beforeEach, describe, test } from 'node:test'
import { aiActions } from '../../../src/actions/ai-actions.ts'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import type { ActionDefinition } from '../../../src/core/action.ts'
import { NonRetryableError } from '../../../src/core/errors.ts'
import type { SecretReader } from '../../../src/core/secrets-port.ts'
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts'
import { SqliteUsageStore } from '../../../src/store/sqlite/sqlite-usage-store.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import {
  anthropicError,
  anthropicMessage,
  openAiCompletion,
  openAiError,
  startAnthropicServer,
  startOpenAiServer,
} from '../../helpers/llm-servers.ts'
import { tempDir } from '../../helpers/tmp.ts'

const OPENAI_KEY = 'sk-test-9f8e7d6c5b4a'
const ANTHROPIC_KEY = 'sk-ant-test-1a2b3c4d'
const openai = await startOpenAiServer({ apiKey: OPENAI_KEY })
const anthropic = await startAnthropicServer({ apiKey: ANTHROPIC_KEY })
after(() => Promise.all([openai.close(), anthropic.close()]))

const store = new SqliteStore({ path: join(tempDir(), 'usage.db') })
await store.migrate()
after(() => store.close())
const usage = new SqliteUsageStore(store.handle)

const secretValues: Record<string, string> = { OPENAI_KEY, ANTHROPIC_KEY, WRONG_KEY: 'sk-wrong' }
const secrets: SecretReader = { get: (n) => secretValues[n], names: () => Object.keys(secretValues).sort() }

function services(overrides: Partial<ActionServices> = {}): ActionServices {
  return {
    ...DEFAULT_ACTION_SERVICES,
    http: { ...DEFAULT_ACTION_SERVICES.http, allow: ['127.0.0.1'] },
    ai: {
      default: 'gpt',
      providers: {
        gpt: {
          kind: 'openai',
          url: openai.url,
          model: 'gpt-4o-mini',
          api_key_secret: 'OPENAI_KEY',
          price: { input: 0.15, output: 0.6 },
        },
        claude: {
          kind: 'anthropic',
          url: anthropic.url,
          model: 'claude-sonnet-4-5',
          api_key_secret: 'ANTHROPIC_KEY',
          price: { input: 3, output: 15 },
        },
        nokey: { kind: 'openai', url: openai.url, model: 'llama3', api_key_secret: 'NOT_SET' },
        badkey: { kind: 'openai', url: openai.url, model: 'gpt-4o-mini', api_key_secret: 'WRONG_KEY' },
      },
    },
    secrets,
    usage,
    ...overrides,
  }
}

const family = aiActions(services())
const generate = family.find((a) => a.type === 'ai.generate')!
const analyze = family.find((a) => a.type === 'ai.analyze')!
type Out = {
  text: string
  model: string
  provider: string
  usage: { input_tokens: number; output_tokens: number; cost_usd?: number }
  finish_reason: string
  context?: { included_chars: number; total_chars: number; truncated: boolean }
  json?: unknown
}
const run = (action: ActionDefinition, params: Record<string, unknown>, ctx = actionContext()) =>
  runAction(action, params, ctx) as Promise<Out>

beforeEach(() => {
  openai.requests.length = 0
  anthropic.requests.length = 0
  openai.answerWith((r) => `echo: ${String(r.body.messages.at(-1).content).slice(0, 40)}`)
})

describe('ai.generate over OpenAI chat completions', () => {
  test('sends model, system, user message, max_tokens, temperature and the key from the secret', async () => {
    openai.reply(
      openAiCompletion('Three lines of review.', {
        model: 'gpt-4o-mini-2024-07-18',
        promptTokens: 1200,
        completionTokens: 300,
      }),
    )
    const out = await run(generate, {
      system: 'You review code.',
      prompt: 'Review this diff',
      max_tokens: 256,
      temperature: 0.2,
    })
    const [req] = openai.requests
    assert.equal(req!.path, '/v1/chat/completions')
    assert.equal(req!.headers.authorization, `Bearer ${OPENAI_KEY}`)
    assert.equal(req!.headers['content-type'], 'application/json')
    assert.deepEqual(req!.body, {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You review code.' },
        { role: 'user', content: 'Review this diff' },
      ],
      max_tokens: 256,
      temperature: 0.2,
      stream: false,
    })
    assert.deepEqual(out, {
      text: 'Three lines of review.',
      model: 'gpt-4o-mini-2024-07-18',
      provider: 'gpt',
      usage: { input_tokens: 1200, output_tokens: 300, cost_usd: (1200 * 0.15 + 300 * 0.6) / 1e6 },
      finish_reason: 'stop',
    })
  })

  test('the model parameter overrides the provider model; the default max_tokens is 1024', async () => {
    const out = await run(generate, { prompt: 'hi', model: 'gpt-4.1' })
    assert.equal(openai.requests[0]!.body.model, 'gpt-4.1')
    assert.equal(openai.requests[0]!.body.max_tokens, 1024)
    assert.equal(openai.requests[0]!.body.messages.length, 1)
    assert.equal(out.text, 'echo: hi')
    assert.equal(out.model, 'gpt-4.1')
  })

  test('429 with Retry-After is retried, then the answer is used', async () => {
    openai.reply({
      ...openAiError(429, 'Rate limit reached for gpt-4o-mini', 'requests', 'rate_limit_exceeded'),
      headers: { 'retry-after': '0' },
    })
    const ctx = actionContext()
    const out = await run(generate, { prompt: 'again' }, ctx)
    assert.equal(openai.requests.length, 2)
    assert.equal(out.text, 'echo: again')
    assert.ok(ctx.logs.some((l) => /attempt 1 answered 429; retrying/.test(l)))
  })

  test("a 400 fails at once, non-retryable, with the provider's message", async () => {
    openai.reply(openAiError(400, "Invalid 'max_tokens': integer below minimum value."))
    await assert.rejects(run(generate, { prompt: 'x' }), (err) => {
      assert.ok(err instanceof NonRetryableError)
      assert.equal((err as { code?: string }).code, 'HS_ERR_AI_PROVIDER')
      assert.match(
        err.message,
        /provider gpt \(POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\) answered 400: Invalid 'max_tokens'/,
      )
      return true
    })
    assert.equal(openai.requests.length, 1)
  })

  test('a wrong key gets the provider 401 message; the key itself never shows', async () => {
    const ctx = actionContext()
    await assert.rejects(run(generate, { provider: 'badkey', prompt: 'x' }, ctx), (err) => {
      assert.match((err as Error).message, /answered 401: Incorrect API key provided/)
      assert.ok(!(err as Error).message.includes('sk-wrong'))
      return true
    })
    assert.ok(!ctx.logs.join('\n').includes('sk-wrong'))
  })
})

describe('ai.generate over Anthropic messages', () => {
  test('sends x-api-key, anthropic-version, top-level system, max_tokens; maps stop_reason', async () => {
    anthropic.reply(
      anthropicMessage('Bonjour.', {
        model: 'claude-sonnet-4-5-20250929',
        inputTokens: 40,
        outputTokens: 5,
        stopReason: 'max_tokens',
      }),
    )
    const out = await run(generate, {
      provider: 'claude',
      system: 'Answer in French.',
      prompt: 'Say hello',
      max_tokens: 5,
    })
    const [req] = anthropic.requests
    assert.equal(req!.path, '/v1/messages')
    assert.equal(req!.headers['x-api-key'], ANTHROPIC_KEY)
    assert.equal(req!.headers['anthropic-version'], '2023-06-01')
    assert.equal(req!.headers.authorization, undefined)
    assert.deepEqual(req!.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 5,
      system: 'Answer in French.',
      messages: [{ role: 'user', content: 'Say hello' }],
    })
    assert.equal(out.text, 'Bonjour.')
    assert.equal(out.finish_reason, 'length')
    assert.deepEqual(out.usage, { input_tokens: 40, output_tokens: 5, cost_usd: (40 * 3 + 5 * 15) / 1e6 })
  })

  test('the real server answers the default request (protocol checks pass)', async () => {
    const out = await run(generate, { provider: 'claude', prompt: 'ping' })
    assert.equal(out.text, 'echo: ping')
    assert.equal(out.finish_reason, 'stop')
    assert.ok(out.usage.input_tokens > 0 && out.usage.output_tokens > 0)
  })

  test('529 overloaded is retried', async () => {
    anthropic.reply({
      ...anthropicError(529, 'overloaded_error', 'Overloaded'),
      headers: { 'retry-after': '0' },
    })
    const out = await run(generate, { provider: 'claude', prompt: 'busy?' })
    assert.equal(anthropic.requests.length, 2)
    assert.equal(out.text, 'echo: busy?')
  })

  test('a 400 carries the error type and message', async () => {
    anthropic.reply(
      anthropicError(
        400,
        'invalid_request_error',
        'max_tokens: 100000 > 64000, which is the maximum allowed',
      ),
    )
    await assert.rejects(
      run(generate, { provider: 'claude', prompt: 'x' }),
      /answered 400: invalid_request_error: max_tokens: 100000 > 64000/,
    )
  })
})

describe('usage and cost per run', () => {
  test('each call is recorded against its run and step with tokens and cost', async () => {
    openai.reply(openAiCompletion('a', { promptTokens: 1000, completionTokens: 100 }))
    anthropic.reply(anthropicMessage('b', { inputTokens: 2000, outputTokens: 200 }))
    await run(generate, { prompt: 'one' }, actionContext({ idempotencyKey: 'run-usage:draft:0' }))
    await run(
      generate,
      { provider: 'claude', prompt: 'two' },
      actionContext({ idempotencyKey: 'run-usage:polish:0' }),
    )
    const { calls, totals } = usage.forRun('run-usage')
    assert.deepEqual(
      calls.map((c) => [c.stepId, c.provider, c.model, c.inputTokens, c.outputTokens, c.costUsd]),
      [
        ['draft', 'gpt', 'gpt-test', 1000, 100, (1000 * 0.15 + 100 * 0.6) / 1e6],
        ['polish', 'claude', 'claude-test', 2000, 200, (2000 * 3 + 200 * 15) / 1e6],
      ],
    )
    assert.equal(calls[0]!.workflowId, 'wf')
    assert.deepEqual(
      { ...totals, costUsd: Number(totals.costUsd.toFixed(9)) },
      {
        calls: 2,
        inputTokens: 3000,
        outputTokens: 300,
        costUsd: Number(((1000 * 0.15 + 100 * 0.6 + 2000 * 3 + 200 * 15) / 1e6).toFixed(9)),
      },
    )
    const byModel = usage.totals({ workflowId: 'wf' })
    assert.ok(byModel.some((r) => r.provider === 'claude' && r.inputTokens >= 2000))
  })
})

describe('includeContext', () => {
  const trigger = { type: 'file_change', filePath: 'src/app.ts', event: 'change' }
  const steps = { read_file: { status: 'succeeded', output: { content: 'export const x = 1' } } }

  test("the run's trigger and prior step outputs go into the user message", async () => {
    const out = await run(
      generate,
      { prompt: 'Review', includeContext: true },
      actionContext({ trigger, steps }),
    )
    const content: string = openai.requests[0]!.body.messages.at(-1).content
    assert.ok(content.startsWith('Review\n\nContext of this workflow run'))
    const json = JSON.parse(content.slice(content.indexOf('{')))
    assert.deepEqual(json, { trigger, steps })
    assert.equal(out.context?.truncated, false)
  })

  test('a context over context_limit is cut, and says so', async () => {
    const big = { step: { status: 'succeeded', output: { log: 'z'.repeat(5000) } } }
    const ctx = actionContext({ trigger, steps: big })
    const out = await run(generate, { prompt: 'Summarise', includeContext: true, context_limit: 300 }, ctx)
    const content: string = openai.requests[0]!.body.messages.at(-1).content
    assert.match(content, /\[context truncated: the first 300 of \d+ characters are shown\]$/)
    assert.ok(content.length < 600)
    assert.equal(out.context?.truncated, true)
    assert.equal(out.context?.included_chars, 300)
    assert.ok(out.context!.total_chars > 5000)
    assert.ok(ctx.logs.some((l) => /run context cut to 300 of/.test(l)))
  })

  test('without includeContext nothing of the run is sent', async () => {
    await run(generate, { prompt: 'Plain' }, actionContext({ trigger, steps }))
    assert.equal(openai.requests[0]!.body.messages.at(-1).content, 'Plain')
  })
})

describe('ai.analyze', () => {
  test('asks for JSON (response_format, schema in the system prompt), sends the content, parses the answer', async () => {
    const answer = {
      summary: 'One bug.',
      findings: [{ severity: 'error', message: 'x is reassigned', location: 'a.ts:3' }],
    }
    openai.answerWith(() => JSON.stringify(answer))
    const out = await run(analyze, { instructions: 'Find bugs', content: 'let x = 1\nx = 2' })
    const body = openai.requests[0]!.body
    assert.deepEqual(body.response_format, { type: 'json_object' })
    assert.match(body.messages[0].content, /one JSON object/)
    assert.match(body.messages[0].content, /"findings"/)
    assert.equal(body.messages[1].content, 'Find bugs\n\nContent to analyse:\n<<<\nlet x = 1\nx = 2\n>>>')
    assert.deepEqual(out.json, answer)
    assert.equal(out.text, JSON.stringify(answer))
  })

  test('a custom schema is checked; an answer in a code fence is read (Anthropic)', async () => {
    const schema = {
      type: 'object',
      properties: { risk: { type: 'integer', minimum: 0, maximum: 10 } },
      required: ['risk'],
    }
    anthropic.reply(anthropicMessage('Here you go:\n```json\n{"risk": 7}\n```'))
    const out = await run(analyze, { provider: 'claude', prompt: 'Rate the risk', schema })
    assert.deepEqual(out.json, { risk: 7 })
    assert.match(anthropic.requests[0]!.body.system, /"risk"/)
  })

  test('an answer that misses the schema fails with HS_ERR_AI_ANSWER, and its cost is still recorded', async () => {
    const schema = { type: 'object', properties: { risk: { type: 'integer' } }, required: ['risk'] }
    openai.reply(openAiCompletion('{"danger": "high"}', { promptTokens: 50, completionTokens: 5 }))
    await assert.rejects(
      run(analyze, { prompt: 'Rate', schema }, actionContext({ idempotencyKey: 'run-bad-json:rate:0' })),
      (err) => {
        assert.equal((err as { code?: string }).code, 'HS_ERR_AI_ANSWER')
        assert.match((err as Error).message, /does not match the schema/)
        return true
      },
    )
    assert.equal(usage.forRun('run-bad-json').calls.length, 1)
  })

  test('prose instead of JSON fails with what the model said', async () => {
    openai.reply(openAiCompletion('I cannot do that.'))
    await assert.rejects(run(analyze, { prompt: 'Rate' }), /did not answer with JSON.*I cannot do that/)
  })
})

describe('configuration errors and the guard', () => {
  test('a key secret that is not set fails before any request, naming the secret', async () => {
    await assert.rejects(run(generate, { provider: 'nokey', prompt: 'x' }), (err) => {
      assert.equal((err as { code?: string }).code, 'HS_ERR_AI_CONFIG')
      assert.match(
        (err as Error).message,
        /secret "NOT_SET", which is not set \(homeostat secrets set NOT_SET\)/,
      )
      return true
    })
    assert.equal(openai.requests.length, 0)
  })

  test('an unknown provider lists the configured ones', async () => {
    await assert.rejects(
      run(generate, { provider: 'gemini', prompt: 'x' }),
      /no provider "gemini" under ai.providers \(configured: gpt, claude, nokey, badkey\)/,
    )
  })

  test('no provider configured at all says where to add one', async () => {
    const [bare] = aiActions(services({ ai: { providers: {} } }))
    await assert.rejects(
      runAction(bare!, { prompt: 'x' }),
      /no LLM provider is configured \(add one under ai.providers/,
    )
  })

  test('a provider on loopback is refused unless http.allow admits it', async () => {
    const [guarded] = aiActions(services({ http: DEFAULT_ACTION_SERVICES.http }))
    await assert.rejects(runAction(guarded!, { prompt: 'x' }), (err) => {
      assert.equal((err as { code?: string }).code, 'HS_ERR_HTTP_DESTINATION_DENIED')
      assert.match(
        (err as Error).message,
        /refused ai.generate: provider gpt \(POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\): 127\.0\.0\.1 is a loopback address.*http\.allow/,
      )
      return true
    })
    assert.equal(openai.requests.length, 0)
  })

  test('aborting the step aborts the call', async () => {
    openai.reply({ status: 200, body: openAiCompletion('late').body, headers: {} })
    const controller = new AbortController()
    controller.abort(new Error('step timed out'))
    await assert.rejects(
      run(generate, { prompt: 'x' }, actionContext({ signal: controller.signal })),
      /step timed out/,
    )
  })
})

describe('ai dry run', () => {
  test('plan() names provider, model, URL and prompt size, and spends nothing', async () => {
    const plan = await analyze.plan!(
      { provider: 'claude', instructions: 'Find bugs', content: 'abc', includeContext: true },
      actionContext({ idempotencyKey: 'run-dry:review:0' }),
    )
    const details = plan.details as Record<string, unknown>
    assert.equal(details.provider, 'claude')
    assert.equal(details.model, 'claude-sonnet-4-5')
    assert.equal(details.url, `${anthropic.url}/v1/messages`)
    assert.ok((details.promptChars as number) > 0)
    assert.match(
      plan.summary,
      /^ask claude\/claude-sonnet-4-5 \(POST http:\/\/127\.0\.0\.1:\d+\/v1\/messages\) with a \d+-character prompt, up to 1024 tokens back$/,
    )
    assert.equal(anthropic.requests.length, 0)
    assert.equal(usage.forRun('run-dry').calls.length, 0)
  })
})
