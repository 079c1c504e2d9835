import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Stand-ins for hosted LLM APIs, which cannot be reached from here: real HTTP servers on 127.0.0.1
 * speaking the real wire protocols — OpenAI chat completions (`POST /v1/chat/completions`) and
 * Anthropic messages (`POST /v1/messages`) — with their authentication checks, error bodies and
 * usage counts. Every request is recorded; replies can be scripted (errors, rate limits, answers).
 */

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** The JSON body (undefined when it was not JSON). */
  readonly body: any
  /** Epoch milliseconds when it arrived. */
  readonly at: number
}

/** One scripted answer: a status, headers, and a body (objects are sent as JSON). */
export interface ScriptedReply {
  readonly status?: number
  readonly headers?: Record<string, string>
  readonly body?: unknown
}

export interface LlmServer {
  /** The base URL to configure as the provider's `url`. */
  readonly url: string
  readonly requests: RecordedRequest[]
  /** Answer the next requests with these replies, in order; then the default answer again. */
  reply(...replies: ScriptedReply[]): void
  /** The text of the default answer, from the request (default: `echo: <start of the last user message>`). */
  answerWith(text: (request: RecordedRequest) => string): void
  close(): Promise<void>
}

interface Protocol {
  readonly path: string
  readonly base: (origin: string) => string
  /** An error reply when the request is not acceptable (auth, headers, body). */
  check(request: RecordedRequest, apiKey: string | undefined): ScriptedReply | undefined
  answer(request: RecordedRequest, text: string): ScriptedReply
  lastUserText(body: any): string
}

/** Roughly what a tokenizer would count: one token per four characters. */
export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4))
}

/** An OpenAI error body as the API sends it. */
export function openAiError(
  status: number,
  message: string,
  type = 'invalid_request_error',
  code: string | null = null,
): ScriptedReply {
  return { status, body: { error: { message, type, param: null, code } } }
}

/** An Anthropic error body as the API sends it. */
export function anthropicError(status: number, type: string, message: string): ScriptedReply {
  return { status, body: { type: 'error', error: { type, message } } }
}

/** A chat completion carrying `text`, as OpenAI answers. */
export function openAiCompletion(
  text: string,
  options: { model?: string; promptTokens?: number; completionTokens?: number; finishReason?: string } = {},
): ScriptedReply {
  const prompt = options.promptTokens ?? 10
  const completion = options.completionTokens ?? countTokens(text)
  return {
    body: {
      id: `chatcmpl-${Math.random().toString(36).slice(2, 12)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: options.model ?? 'gpt-test',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: options.finishReason ?? 'stop',
        },
      ],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      system_fingerprint: 'fp_test',
    },
  }
}

/** A message carrying `text`, as Anthropic answers. */
export function anthropicMessage(
  text: string,
  options: { model?: string; inputTokens?: number; outputTokens?: number; stopReason?: string } = {},
): ScriptedReply {
  return {
    headers: { 'request-id': `req_${Math.random().toString(36).slice(2, 12)}` },
    body: {
      id: `msg_${Math.random().toString(36).slice(2, 14)}`,
      type: 'message',
      role: 'assistant',
      model: options.model ?? 'claude-test',
      content: [{ type: 'text', text }],
      stop_reason: options.stopReason ?? 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: options.inputTokens ?? 10,
        output_tokens: options.outputTokens ?? countTokens(text),
      },
    },
  }
}

const OPENAI: Protocol = {
  path: '/v1/chat/completions',
  base: (origin) => `${origin}/v1`,
  check(request, apiKey) {
    if (apiKey !== undefined && request.headers.authorization !== `Bearer ${apiKey}`)
      return openAiError(
        401,
        'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      )
    const body = request.body
    if (typeof body?.model !== 'string') return openAiError(400, 'you must provide a model parameter')
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return openAiError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1.")
    return undefined
  },
  answer(request, text) {
    const prompt = countTokens(request.body.messages.map((m: { content: string }) => m.content).join('\n'))
    return openAiCompletion(text, { model: request.body.model, promptTokens: prompt })
  },
  lastUserText: (body) =>
    String(body.messages.filter((m: { role: string }) => m.role === 'user').at(-1)?.content ?? ''),
}

const ANTHROPIC: Protocol = {
  path: '/v1/messages',
  base: (origin) => origin,
  check(request, apiKey) {
    if (apiKey !== undefined && request.headers['x-api-key'] !== apiKey)
      return anthropicError(401, 'authentication_error', 'invalid x-api-key')
    if (request.headers['anthropic-version'] === undefined)
      return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required')
    const body = request.body
    if (typeof body?.model !== 'string')
      return anthropicError(400, 'invalid_request_error', 'model: Field required')
    if (!Number.isInteger(body.max_tokens))
      return anthropicError(400, 'invalid_request_error', 'max_tokens: Field required')
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return anthropicError(400, 'invalid_request_error', 'messages: at least one message is required')
    return undefined
  },
  answer(request, text) {
    const all = `${request.body.system ?? ''}\n${request.body.messages.map((m: { content: string }) => m.content).join('\n')}`
    return anthropicMessage(text, { model: request.body.model, inputTokens: countTokens(all) })
  },
  lastUserText: (body) =>
    String(body.messages.filter((m: { role: string }) => m.role === 'user').at(-1)?.content ?? ''),
}

function send(res: ServerResponse, reply: ScriptedReply): void {
  const body =
    reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
  res.writeHead(reply.status ?? 200, {
    ...(typeof reply.body === 'string' ? {} : { 'content-type': 'application/json' }),
    ...reply.headers,
  })
  res.end(body)
}

async function start(protocol: Protocol, options: { apiKey?: string }): Promise<LlmServer> {
  const requests: RecordedRequest[] = []
  const script: ScriptedReply[] = []
  let answerText = (r: RecordedRequest): string => `echo: ${protocol.lastUserText(r.body).slice(0, 60)}`
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        body = undefined
      }
      const request: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      }
      requests.push(request)
      if (req.method !== 'POST' || req.url !== protocol.path)
        return send(res, { status: 404, body: { error: { message: `no route ${req.method} ${req.url}` } } })
      const scripted = script.shift()
      if (scripted) return send(res, scripted)
      const refused = protocol.check(request, options.apiKey)
      if (refused) return send(res, refused)
      send(res, protocol.answer(request, answerText(request)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: protocol.base(`http://127.0.0.1:${port}`),
    requests,
    reply: (...replies) => void script.push(...replies),
    answerWith: (text) => void (answerText = text),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** An OpenAI-compatible chat-completions server; `url` is `http://127.0.0.1:<port>/v1`. */
export function startOpenAiServer(options: { apiKey?: string } = {}): Promise<LlmServer> {
  return start(OPENAI, options)
}

/** An Anthropic messages server; `url` is `http://127.0.0.1:<port>`. */
export function startAnthropicServer(options: { apiKey?: string } = {}): Promise<LlmServer> {
  return start(ANTHROPIC, options)
}
