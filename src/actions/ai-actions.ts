import type { ActionContext, ActionDefinition, ActionPlan } from '../core/action.ts'
import type { ActionServices } from './action-services.ts'
import { DEFAULT_ANALYSIS_SCHEMA, parseAnalysis } from './ai/analysis.ts'
import { callModel, costUsd, resolveProvider } from './ai/llm-call.ts'
import type { ChatRequest } from './ai/protocols.ts'
import { DEFAULT_CONTEXT_LIMIT, promptContext, withContext, type PromptContext } from './ai/run-context.ts'
import { CodedNonRetryableError } from './net/errors.ts'
import type { GuardedHttpClient } from './net/guarded-client.ts'
import { DURATION_SCHEMA, guardedClient } from './net/params.ts'

export type { AiUsageRecord, AiUsageRecorder } from '../core/usage-port.ts'

export interface AiParams {
  provider?: string
  model?: string
  system?: string
  prompt?: string
  max_tokens?: number
  temperature?: number
  includeContext?: boolean
  context_limit?: number
  timeout?: string | number
  /** ai.analyze only. */
  content?: string
  instructions?: string
  schema?: Record<string, unknown>
}

export interface AiOutput {
  text: string
  model: string
  provider: string
  usage: { input_tokens: number; output_tokens: number; cost_usd?: number }
  finish_reason: string
  context?: { included_chars: number; total_chars: number; truncated: boolean }
  json?: unknown
}

const DEFAULT_MAX_TOKENS = 1024

const COMMON = {
  provider: { type: 'string', description: 'Provider name under `ai.providers`. Default `ai.default`' },
  model: { type: 'string', minLength: 1, description: "Model, overriding the provider's `model`" },
  system: { type: 'string', description: 'System prompt' },
  max_tokens: {
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: DEFAULT_MAX_TOKENS,
    description: `Most tokens the model may write. Default ${DEFAULT_MAX_TOKENS}`,
  },
  temperature: {
    type: 'number',
    minimum: 0,
    maximum: 2,
    description: "Sampling temperature; the provider's default when absent",
  },
  includeContext: {
    type: 'boolean',
    default: false,
    description: "Append the run's trigger and the outputs of earlier steps (JSON, cut to `context_limit`)",
  },
  context_limit: {
    type: 'integer',
    minimum: 100,
    default: DEFAULT_CONTEXT_LIMIT,
    description: `Most characters of context appended; a cut context says so. Default ${DEFAULT_CONTEXT_LIMIT}`,
  },
  timeout: {
    ...DURATION_SCHEMA,
    description: "Limit of one call. Default the provider's `timeout`, else 120s",
  },
}

const OUTPUT_PROPS = {
  text: { type: 'string', description: "The model's answer" },
  model: { type: 'string', description: 'The model that answered' },
  provider: { type: 'string', description: 'The provider used' },
  usage: {
    type: 'object',
    description: 'Tokens used, and the cost in USD when the provider has a `price`',
    properties: {
      input_tokens: { type: 'integer', description: 'Prompt tokens' },
      output_tokens: { type: 'integer', description: 'Answer tokens' },
      cost_usd: { type: 'number', description: 'USD at the configured price' },
    },
    required: ['input_tokens', 'output_tokens'],
  },
  finish_reason: {
    type: 'string',
    description: '`stop`, `length` (hit max_tokens), `tool_calls`, `content_filter`, ...',
  },
  context: {
    type: 'object',
    description: 'How much run context went in (with includeContext)',
    properties: {
      included_chars: { type: 'integer', description: 'Characters included' },
      total_chars: { type: 'integer', description: 'Characters of the whole context' },
      truncated: { type: 'boolean', description: 'True when the context was cut' },
    },
  },
}
const OUTPUT_REQUIRED = ['text', 'model', 'provider', 'usage', 'finish_reason']

interface Built {
  request: ChatRequest
  context?: PromptContext
}

function withRunContext(
  params: AiParams,
  prompt: string,
  ctx: ActionContext,
): { prompt: string; context?: PromptContext } {
  if (!params.includeContext) return { prompt }
  const context = promptContext(ctx, params.context_limit ?? DEFAULT_CONTEXT_LIMIT)
  if (context.truncated)
    ctx.logger.warn(
      `run context cut to ${context.includedChars} of ${context.totalChars} characters (context_limit)`,
    )
  return { prompt: withContext(prompt, context), context }
}

function buildGenerate(params: AiParams, model: string, ctx: ActionContext): Built {
  if (params.prompt === undefined || params.prompt === '')
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'ai.generate: `prompt` is required')
  const { prompt, context } = withRunContext(params, params.prompt, ctx)
  return {
    request: {
      model,
      ...(params.system ? { system: params.system } : {}),
      prompt,
      maxTokens: params.max_tokens ?? DEFAULT_MAX_TOKENS,
      ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
    },
    ...(context ? { context } : {}),
  }
}

function buildAnalyze(params: AiParams, model: string, ctx: ActionContext): Built {
  const task = [params.instructions, params.prompt].filter((t) => t !== undefined && t !== '').join('\n\n')
  if (task === '')
    throw new CodedNonRetryableError('HS_ERR_ACTION_PARAMS', 'ai.analyze: give `instructions` or `prompt`')
  const schema = params.schema ?? DEFAULT_ANALYSIS_SCHEMA
  const system = [
    params.system ?? 'You are a careful analyst.',
    'Answer with one JSON object and nothing else: no prose, no Markdown code fences.',
    `The object must match this JSON Schema:\n${JSON.stringify(schema)}`,
  ].join('\n\n')
  const body =
    params.content === undefined ? task : `${task}\n\nContent to analyse:\n<<<\n${params.content}\n>>>`
  const { prompt, context } = withRunContext(params, body, ctx)
  return {
    request: {
      model,
      system,
      prompt,
      maxTokens: params.max_tokens ?? DEFAULT_MAX_TOKENS,
      ...(params.temperature === undefined ? {} : { temperature: params.temperature }),
      json: true,
    },
    ...(context ? { context } : {}),
  }
}

async function run(
  kind: 'generate' | 'analyze',
  client: GuardedHttpClient,
  services: ActionServices,
  params: AiParams,
  ctx: ActionContext,
): Promise<AiOutput> {
  const action = `ai.${kind}`
  const provider = resolveProvider(services, params.provider, action)
  const model = params.model ?? provider.settings.model
  const built = kind === 'generate' ? buildGenerate(params, model, ctx) : buildAnalyze(params, model, ctx)
  const answer = await callModel(client, services, provider, built.request, ctx, action, params.timeout)
  const cost = costUsd(provider.settings.price, answer.inputTokens, answer.outputTokens)
  const answeredModel = answer.model || model
  services.usage?.record({
    runId: ctx.run.id,
    workflowId: ctx.run.workflow,
    stepId: ctx.step.id,
    iteration: ctx.step.iteration,
    attempt: ctx.step.attempt,
    provider: provider.name,
    model: answeredModel,
    inputTokens: answer.inputTokens,
    outputTokens: answer.outputTokens,
    ...(cost === undefined ? {} : { costUsd: cost }),
    at: Date.now(),
  })
  ctx.logger.info(`${action}: ${provider.name}/${answeredModel} answered (${answer.finishReason})`, {
    input_tokens: answer.inputTokens,
    output_tokens: answer.outputTokens,
    ...(cost === undefined ? {} : { cost_usd: cost }),
  })
  const output: AiOutput = {
    text: answer.text,
    model: answeredModel,
    provider: provider.name,
    usage: {
      input_tokens: answer.inputTokens,
      output_tokens: answer.outputTokens,
      ...(cost === undefined ? {} : { cost_usd: cost }),
    },
    finish_reason: answer.finishReason,
    ...(built.context
      ? {
          context: {
            included_chars: built.context.includedChars,
            total_chars: built.context.totalChars,
            truncated: built.context.truncated,
          },
        }
      : {}),
  }
  if (kind === 'analyze')
    output.json = parseAnalysis(answer.text, params.schema ?? DEFAULT_ANALYSIS_SCHEMA, answer.finishReason)
  return output
}

async function plan(
  kind: 'generate' | 'analyze',
  client: GuardedHttpClient,
  services: ActionServices,
  params: AiParams,
  ctx: ActionContext,
): Promise<ActionPlan> {
  const action = `ai.${kind}`
  const provider = resolveProvider(services, params.provider, action)
  const model = params.model ?? provider.settings.model
  const built = kind === 'generate' ? buildGenerate(params, model, ctx) : buildAnalyze(params, model, ctx)
  const check = await client.guard.require(
    provider.endpoint,
    `${action}: provider ${provider.name} (POST ${provider.endpoint})`,
  )
  const promptChars = built.request.prompt.length + (built.request.system?.length ?? 0)
  return {
    summary: `ask ${provider.name}/${model} (POST ${provider.endpoint}) with a ${promptChars}-character prompt, up to ${built.request.maxTokens} tokens back`,
    details: {
      provider: provider.name,
      kind: provider.settings.kind,
      model,
      url: provider.endpoint,
      promptChars,
      maxTokens: built.request.maxTokens,
      ...(built.context
        ? { contextChars: built.context.includedChars, contextTruncated: built.context.truncated }
        : {}),
      guard: { allowed: true, reason: check.reason },
    },
  }
}

/**
 * `ai.generate` (free text) and `ai.analyze` (a JSON answer, checked against a schema) against the
 * providers of `services.ai`, through the destination guard (a provider on loopback or a private
 * network needs `http.allow`). Each call's tokens and cost go to `services.usage` by run and step.
 * An LLM call costs money, so both have side effects: a dry run gets the plan and spends nothing.
 */
export function aiActions(services: ActionServices): ActionDefinition[] {
  const client = guardedClient(services)
  const generate: ActionDefinition<AiParams, AiOutput> = {
    type: 'ai.generate',
    description: 'Asks an LLM (OpenAI-compatible or Anthropic) for text; records tokens and cost.',
    params: {
      type: 'object',
      properties: { ...COMMON, prompt: { type: 'string', minLength: 1, description: 'The user message' } },
      required: ['prompt'],
      additionalProperties: false,
    },
    output: { type: 'object', properties: OUTPUT_PROPS, required: OUTPUT_REQUIRED },
    sideEffects: true,
    execute: (params, ctx) => run('generate', client, services, params, ctx),
    plan: (params, ctx) => plan('generate', client, services, params, ctx),
  }
  const analyze: ActionDefinition<AiParams, AiOutput> = {
    type: 'ai.analyze',
    description:
      'Asks an LLM to analyse content and answer in JSON matching a schema; records tokens and cost.',
    params: {
      type: 'object',
      properties: {
        ...COMMON,
        prompt: { type: 'string', description: 'The request (with or instead of `instructions`)' },
        instructions: { type: 'string', description: 'What to look for in `content`' },
        content: { type: 'string', description: 'The text to analyse (a file, a diff, a log)' },
        schema: {
          type: 'object',
          description:
            'JSON Schema the answer must match. Default: { summary, findings: [{ severity, message, location }] }',
        },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: { ...OUTPUT_PROPS, json: { description: 'The parsed answer, valid against `schema`' } },
      required: [...OUTPUT_REQUIRED, 'json'],
    },
    sideEffects: true,
    execute: (params, ctx) => run('analyze', client, services, params, ctx),
    plan: (params, ctx) => plan('analyze', client, services, params, ctx),
  }
  return [generate as unknown as ActionDefinition, analyze as unknown as ActionDefinition]
}
