import type { AiUsageRecorder } from './ai-actions.ts'
import type { HostLookup } from './net/host-lookup.ts'
import type { ChatStore } from '../core/chat-port.ts'
import type { PluginCommands } from './plugin-actions.ts'
import type { HandlerInvoker } from '../core/handler-port.ts'
import type { EventPublisher } from '../core/publisher-port.ts'
import type { EventWaitRegistry } from './wait-event-action.ts'
import { NO_SECRETS, type SecretReader } from '../core/secrets-port.ts'

/**
 * What the action families need from the process that hosts them, resolved once from the
 * configuration by the composition root (`cli/app.ts`) and passed down frozen. Every field has a
 * default that is safe: no file roots (file, shell and git actions refuse every path), no private
 * destinations, no LLM providers, no secrets.
 */
export interface ActionServices {
  readonly files: { readonly roots: readonly string[]; readonly maxBytes: number }
  readonly shell: { readonly env: readonly string[]; readonly timeoutMs: number; readonly maxOutput: number }
  readonly http: {
    /** Hosts, IPs or CIDRs allowed although private or loopback. */
    readonly allow: readonly string[]
    /** Hosts, IPs or CIDRs always refused. */
    readonly deny: readonly string[]
    /** Default limit of one request (redirects included), in milliseconds. */
    readonly timeoutMs: number
    /** Largest response body any step may keep, in bytes (`max_response` on a step can only lower it). */
    readonly maxResponse: number
    /** Name resolution of the destination guard; the system resolver when absent (tests inject one). */
    readonly lookup?: HostLookup
  }
  readonly ai: {
    readonly default?: string
    readonly providers: Readonly<
      Record<
        string,
        {
          readonly kind: 'openai' | 'anthropic'
          readonly url: string
          readonly model: string
          readonly api_key_secret?: string
          readonly timeout?: string | number
          readonly price?: { readonly input?: number; readonly output?: number }
        }
      >
    >
  }
  readonly notify: {
    readonly slack?: { readonly webhookUrl?: string; readonly webhookUrlSecret?: string }
    readonly email?: {
      readonly host?: string
      readonly port?: number
      readonly secure?: boolean
      /** Without `secure`: `auto` (default) upgrades when offered, `required` fails without it, `off` never upgrades. */
      readonly starttls?: 'auto' | 'required' | 'off'
      readonly user?: string
      readonly password_secret?: string
      readonly from?: string
      readonly tls?: {
        readonly reject_unauthorized?: boolean
        readonly ca_file?: string
        readonly servername?: string
      }
    }
  }
  /** Environment the process's own environment is read from for `shell.env`; the CLI passes its own environment. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly secrets: SecretReader
  /** Where `ai.*` token usage and cost go, per run. */
  readonly usage?: AiUsageRecorder
  readonly invoker?: HandlerInvoker
  readonly publisher?: EventPublisher
  /** Where `wait.event` registers the event its run waits for (the mesh's event waits). */
  readonly waits?: EventWaitRegistry
  /** Where `chat.send` writes (the built-in chat channel); absent, `chat.send` fails with a clear error. */
  readonly chat?: ChatStore
  /** The commands of the loaded plugins, for `plugin.execute` (filled once the plugins load). */
  readonly pluginCommands?: PluginCommands
}

export const DEFAULT_ACTION_SERVICES: ActionServices = Object.freeze({
  files: { roots: [], maxBytes: 10 * 1024 * 1024 },
  shell: { env: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ'], timeoutMs: 60_000, maxOutput: 1024 * 1024 },
  http: { allow: [], deny: [], timeoutMs: 30_000, maxResponse: 10 * 1024 * 1024 },
  ai: { providers: {} },
  notify: {},
  env: {},
  secrets: NO_SECRETS,
})
