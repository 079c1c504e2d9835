import type { ActionContext } from '../../core/action.ts'
import type { ActionServices } from '../action-services.ts'
import { CodedError, CodedNonRetryableError } from '../net/errors.ts'
import type { GuardedHttpClient } from '../net/guarded-client.ts'
import { durationMs } from '../net/params.ts'
import { sendWithRetries, statusError } from '../net/retries.ts'
import { PROTOCOLS, type ChatAnswer, type ChatProtocol, type ChatRequest } from './protocols.ts'

export type ProviderSettings = ActionServices['ai']['providers'][string]

/** A configured provider, ready to call. */
export interface ResolvedProvider {
  readonly name: string
  readonly settings: ProviderSettings
  readonly protocol: ChatProtocol
  /** The endpoint requests go to. */
  readonly endpoint: string
}

/** Default limit of one LLM call: models are slow. */
export const DEFAULT_AI_TIMEOUT_MS = 120_000
/** Extra attempts on 429 / 5xx / network errors inside one step attempt. */
const AI_RETRIES = 2

/** The provider a step names, else `ai.default`, else the only one configured; a clear error otherwise. */
export function resolveProvider(
  services: ActionServices,
  name: string | undefined,
  action: string,
): ResolvedProvider {
  const providers = services.ai.providers
  const names = Object.keys(providers)
  const chosen = name ?? services.ai.default ?? (names.length === 1 ? names[0] : undefined)
  if (chosen === undefined)
    throw new CodedNonRetryableError(
      'HS_ERR_AI_CONFIG',
      names.length === 0
        ? `${action}: no LLM provider is configured (add one under ai.providers in homeostat.yaml)`
        : `${action}: name a provider (one of ${names.join(', ')}) or set ai.default in homeostat.yaml`,
    )
  const settings = providers[chosen]
  if (!settings)
    throw new CodedNonRetryableError(
      'HS_ERR_AI_CONFIG',
      `${action}: no provider ${JSON.stringify(chosen)} under ai.providers (configured: ${names.join(', ') || 'none'})`,
    )
  const protocol = PROTOCOLS[settings.kind]
  return { name: chosen, settings, protocol, endpoint: protocol.endpoint(settings.url) }
}

/** The API key from the secret the provider names; undefined when it names none (local servers). */
export function providerKey(
  services: ActionServices,
  provider: ResolvedProvider,
  action: string,
): string | undefined {
  const secret = provider.settings.api_key_secret
  if (secret === undefined) return undefined
  const value = services.secrets.get(secret)
  if (value === undefined || value === '')
    throw new CodedNonRetryableError(
      'HS_ERR_AI_CONFIG',
      `${action}: provider ${provider.name} reads its API key from secret ${JSON.stringify(secret)}, which is not set (homeostat secrets set ${secret})`,
    )
  return value
}

/** USD for the tokens at the provider's `price` (USD per million tokens); undefined without a price. */
export function costUsd(
  price: ProviderSettings['price'],
  inputTokens: number,
  outputTokens: number,
): number | undefined {
  if (!price || (price.input === undefined && price.output === undefined)) return undefined
  return ((price.input ?? 0) * inputTokens + (price.output ?? 0) * outputTokens) / 1_000_000
}

/**
 * One chat call through the guarded client: 429, 5xx (and Anthropic's 529) and network errors are
 * tried again up to twice, after `Retry-After` when the provider sent one; a longer `Retry-After`
 * goes to the engine as `RetryAfterError`. Other 4xx fail at once with the provider's own message.
 */
export async function callModel(
  client: GuardedHttpClient,
  services: ActionServices,
  provider: ResolvedProvider,
  request: ChatRequest,
  ctx: ActionContext,
  action: string,
  timeout?: string | number,
): Promise<ChatAnswer & { attempts: number }> {
  const key = providerKey(services, provider, action)
  const timeoutMs = durationMs(
    timeout ?? provider.settings.timeout,
    `${action} timeout`,
    DEFAULT_AI_TIMEOUT_MS,
  )
  const what = `${action}: provider ${provider.name} (POST ${provider.endpoint})`
  const { response, attempts, retryAfterMs } = await sendWithRetries(
    client,
    {
      method: 'POST',
      url: provider.endpoint,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'user-agent': 'homeostat',
        ...provider.protocol.headers(key),
      },
      body: JSON.stringify(provider.protocol.body(request)),
      timeoutMs,
      maxResponseBytes: services.http.maxResponse,
      signal: ctx.signal,
      maxRedirects: 0,
      label: what,
    },
    {
      retries: AI_RETRIES,
      onRetry: ({ attempt, delayMs, why }) =>
        ctx.logger.warn(`${what}: attempt ${attempt} ${why}; retrying in ${delayMs}ms`),
    },
  )
  const text = response.body.toString('utf8')
  let body: unknown
  try {
    body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown)
  } catch {
    body = undefined
  }
  if (response.status < 200 || response.status >= 300) {
    const message = provider.protocol.errorMessage(body) ?? (text.trim().slice(0, 300) || response.statusText)
    const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
    throw statusError(
      'HS_ERR_AI_PROVIDER',
      response.status,
      `${what} answered ${response.status}${tries}: ${message}`,
      retryAfterMs,
    )
  }
  if (body === undefined)
    throw new CodedError('HS_ERR_AI_PROVIDER', `${what} answered ${response.status} without a JSON body`)
  try {
    return { ...provider.protocol.parse(body), attempts }
  } catch (err) {
    throw new CodedNonRetryableError(
      'HS_ERR_AI_PROVIDER',
      `${what}: not a ${provider.settings.kind} answer: ${(err as Error).message} (is the provider kind right?)`,
      { cause: err },
    )
  }
}
