/**
 * The two wire protocols `ai.*` speaks: OpenAI-compatible chat completions (OpenAI, Ollama, vLLM,
 * llama.cpp server, LiteLLM, ...) and Anthropic's messages API. Pure: building a request body and
 * reading an answer or an error body; the call itself is in `llm-call.ts`.
 */

/** What a step asks of the model. */
export interface ChatRequest {
  readonly model: string
  readonly system?: string
  /** The user message. */
  readonly prompt: string
  readonly maxTokens: number
  readonly temperature?: number
  /** Ask for a JSON object answer (OpenAI `response_format: json_object`; Anthropic by instruction only). */
  readonly json?: boolean
}

/** The model's answer, the same for both protocols. */
export interface ChatAnswer {
  readonly text: string
  /** The model that answered, as the provider names it. */
  readonly model: string
  /** `stop`, `length`, `tool_calls`, `content_filter`, or the provider's own word for anything else. */
  readonly finishReason: string
  readonly inputTokens: number
  readonly outputTokens: number
}

export interface ChatProtocol {
  /** The endpoint for a configured base URL. */
  endpoint(baseUrl: string): string
  /** Headers, with the API key when there is one. */
  headers(apiKey: string | undefined): Record<string, string>
  body(request: ChatRequest): unknown
  /** Reads a 2xx answer; throws an `Error` naming what is missing when it is not this protocol's shape. */
  parse(body: unknown): ChatAnswer
  /** The provider's error message in an error body, if it has one. */
  errorMessage(body: unknown): string | undefined
}

/** `anthropic-version` sent with every Anthropic request. */
export const ANTHROPIC_VERSION = '2023-06-01'

const trimSlash = (url: string): string => url.replace(/\/+$/, '')

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function tokens(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0
}

/** `POST <url>/chat/completions`, `Authorization: Bearer <key>`. */
export const openaiProtocol: ChatProtocol = {
  endpoint: (baseUrl) => `${trimSlash(baseUrl)}/chat/completions`,
  headers: (apiKey): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  body: (r) => ({
    model: r.model,
    messages: [
      ...(r.system ? [{ role: 'system', content: r.system }] : []),
      { role: 'user', content: r.prompt },
    ],
    max_tokens: r.maxTokens,
    ...(r.temperature === undefined ? {} : { temperature: r.temperature }),
    ...(r.json ? { response_format: { type: 'json_object' } } : {}),
    stream: false,
  }),
  parse: (body) => {
    const b = record(body)
    const choice = record(Array.isArray(b?.choices) ? b.choices[0] : undefined)
    const message = record(choice?.message)
    if (!b || !choice || !message) throw new Error('the answer has no choices[0].message')
    const content = message.content
    const text =
      typeof content === 'string'
        ? content
        : Array.isArray(content)
          ? content
              .map((part) => (typeof record(part)?.text === 'string' ? (record(part)!.text as string) : ''))
              .join('')
          : ''
    const usage = record(b.usage)
    return {
      text,
      model: typeof b.model === 'string' ? b.model : '',
      finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : 'unknown',
      inputTokens: tokens(usage?.prompt_tokens),
      outputTokens: tokens(usage?.completion_tokens),
    }
  },
  errorMessage: (body) => {
    const error = record(record(body)?.error)
    if (typeof error?.message === 'string') return error.message
    const plain = record(body)?.error
    return typeof plain === 'string' ? plain : undefined
  },
}

const ANTHROPIC_STOP: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
}

/** `POST <url>/v1/messages`, `x-api-key`, `anthropic-version`. */
export const anthropicProtocol: ChatProtocol = {
  endpoint: (baseUrl) => {
    const base = trimSlash(baseUrl)
    return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`
  },
  headers: (apiKey) => ({
    'anthropic-version': ANTHROPIC_VERSION,
    ...(apiKey ? { 'x-api-key': apiKey } : {}),
  }),
  body: (r) => ({
    model: r.model,
    max_tokens: r.maxTokens,
    ...(r.system ? { system: r.system } : {}),
    messages: [{ role: 'user', content: r.prompt }],
    ...(r.temperature === undefined ? {} : { temperature: r.temperature }),
  }),
  parse: (body) => {
    const b = record(body)
    if (!b || !Array.isArray(b.content)) throw new Error('the answer has no content blocks')
    const text = b.content
      .map((block) => record(block))
      .filter((block) => block?.type === 'text' && typeof block.text === 'string')
      .map((block) => block!.text as string)
      .join('')
    const usage = record(b.usage)
    const stop = typeof b.stop_reason === 'string' ? b.stop_reason : 'unknown'
    return {
      text,
      model: typeof b.model === 'string' ? b.model : '',
      finishReason: ANTHROPIC_STOP[stop] ?? stop,
      inputTokens: tokens(usage?.input_tokens),
      outputTokens: tokens(usage?.output_tokens),
    }
  },
  errorMessage: (body) => {
    const error = record(record(body)?.error)
    return typeof error?.message === 'string'
      ? `${typeof error.type === 'string' ? `${error.type}: ` : ''}${error.message}`
      : undefined
  },
}

export const PROTOCOLS: Record<'openai' | 'anthropic', ChatProtocol> = {
  openai: openaiProtocol,
  anthropic: anthropicProtocol,
}
