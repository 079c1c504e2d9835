import type { ErrorCode, ErrorRecord } from '../core/errors.ts'
import { parseDuration } from '../core/duration.ts'
import type { SecretReader } from '../core/secrets-port.ts'
import { NO_SECRETS } from '../core/secrets-port.ts'
import { TERMINAL_RUN_STATUSES, type RunRecord } from '../core/store-port.ts'
import type { DurationInput, TriggerSpec, WorkflowDoc } from '../core/workflow.ts'
import type { EngineEvent } from '../engine/engine-events.ts'
import type { EventIngest } from '../mesh/ingest.ts'
import { parseWebhookBody, type BodyLimits } from './webhook-body.ts'
import {
  decodeStandardSecret,
  SIGNATURE_SCHEMES,
  verifyGithub,
  verifyStandard,
  type HeaderBag,
  type SignatureCheck,
  type SignatureScheme,
} from './webhook-signature.ts'

/** One `POST /hooks/<path>` as the HTTP layer hands it over: the body is the raw bytes received. */
export interface WebhookRequest {
  /** The part of the URL after `/hooks/`, decoded. */
  path: string
  method: string
  headers: HeaderBag
  query: Readonly<Record<string, unknown>>
  body: Uint8Array
  /** Aborted when the caller goes away (a `respond: on_completion` wait then stops). */
  signal?: AbortSignal
}

/** What to answer: a JSON body, or an RFC 9457 problem the HTTP layer renders with its code's `fix`. */
export type WebhookAnswer =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { status: number; problem: { code: ErrorCode; detail: string; [extension: string]: unknown } }

/** A workflow in force, as the registry lists it. */
export interface WebhookWorkflow {
  readonly id: string
  readonly version: number
  readonly enabled: boolean
  readonly doc: WorkflowDoc
}

export interface WebhookTriggerOptions {
  /** The workflows in force (the registry, in load order); read on every request, so reloads apply at once. */
  workflows: () => Iterable<WebhookWorkflow>
  /** The mesh ingest: events are stored, deduplicated by (source, id), audited and routed there. */
  ingest: Pick<EventIngest, 'submit'>
  /** Run progress of this process's engine (`respond: on_completion` waits on it). */
  runEvents?: { onEvent(listener: (event: EngineEvent) => void): () => void }
  /** Reads a run from the store: the fallback when another worker executes it. */
  getRun?: (runId: string) => Promise<RunRecord | undefined>
  /** Where `{{ secrets.NAME }}` in `secret` / `secrets` is looked up (default: no secrets). */
  secrets?: SecretReader
  /** Nesting depth and key count a JSON body may have (the ingest limits; default 32 and 10,000). */
  limits?: BodyLimits
  /** Epoch milliseconds (default `Date.now`): the Standard Webhooks timestamp window is checked against it. */
  now?: () => number
  /** How often a waiting request re-reads its run from the store (default 1 s). */
  pollMs?: number
  log?: (level: string, message: string, fields?: Record<string, unknown>) => void
}

/** The event type every webhook call becomes. */
export const WEBHOOK_EVENT_TYPE = 'webhook.received'

/** Longest `respond: on_completion` wait when the trigger names no `timeout`. */
export const DEFAULT_RESPOND_TIMEOUT_MS = 30_000

/** Headers that carry credentials: never copied into the event. */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'webhook-signature',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitlab-token',
])
const SECRET_REF = /^\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}$/
type RunEndEvent = Extract<EngineEvent, { status: string }>
const TERMINAL_EVENTS: ReadonlySet<string> = new Set<RunEndEvent['type']>([
  'workflow.completed',
  'workflow.failed',
  'workflow.cancelled',
  'workflow.timed_out',
])
const isRunEnd = (e: EngineEvent): e is RunEndEvent => TERMINAL_EVENTS.has(e.type)

interface HookTarget {
  workflow: WebhookWorkflow
  trigger: TriggerSpec
  /** The trigger's `id`, else its index in `triggers` as a string (the router's targeting key). */
  triggerId: string
}

interface HookConfig {
  scheme: SignatureScheme
  keys: Uint8Array[]
  respond: 'immediately' | 'on_completion'
  timeoutMs: number
}

interface RunEnd {
  status: string
  output?: unknown
  error?: ErrorRecord
}

/** The URL path a trigger's `path` is served at, without slashes around it (`/hooks/x` → `x`). */
export function hookPath(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined
  const bare = path.startsWith('/hooks/') ? path.slice('/hooks/'.length) : path
  return bare.replace(/^\/+|\/+$/g, '')
}

/**
 * The webhook trigger: turns a signed `POST /hooks/<path>` into a `webhook.received` event for the
 * one trigger that owns the path (its `data` names `workflow_id` and `trigger_id`, so the router
 * starts that trigger only), and answers 202 with the run, or waits for the run's outcome when the
 * trigger says `respond: on_completion`. A replayed message id is the same event id, which the ingest
 * acknowledges as a duplicate without starting a run.
 */
export class WebhookTrigger {
  readonly #o: WebhookTriggerOptions
  readonly #waiters = new Map<string, Set<(end: RunEnd | undefined) => void>>()
  readonly #unsubscribe: (() => void) | undefined
  #closed = false

  constructor(options: WebhookTriggerOptions) {
    this.#o = options
    this.#unsubscribe = options.runEvents?.onEvent((e) => {
      if (!isRunEnd(e) || !this.#waiters.has(e.runId)) return
      for (const w of [...this.#waiters.get(e.runId)!])
        w({ status: e.status, output: e.output, error: e.error })
    })
  }

  /** Answers one request; never throws for anything the caller sent. */
  async handle(request: WebhookRequest): Promise<WebhookAnswer> {
    const path = hookPath(request.path) ?? ''
    const targets = this.#find(path)
    if (targets.length === 0)
      return problem(404, 'HS_ERR_WEBHOOK_NOT_FOUND', `no webhook trigger is served at /hooks/${path}`)
    if (targets.length > 1) {
      this.#o.log?.('error', `webhook path /hooks/${path} is claimed by ${targets.length} triggers`, {
        triggers: targets.map((t) => `${t.workflow.id}#${t.triggerId}`),
      })
      return misconfigured(path)
    }
    const target = targets[0]!
    const config = this.#config(target)
    if (typeof config === 'string') {
      this.#o.log?.('error', `webhook /hooks/${path}: ${config}`, { workflow: target.workflow.id })
      return misconfigured(path)
    }
    const check = this.#verify(config, request)
    if (!check.ok)
      return problem(401, 'HS_ERR_WEBHOOK_SIGNATURE', `the signature is refused: ${check.message}`, {
        reason: check.reason,
      })
    if (!target.workflow.enabled || target.trigger.enabled === false) {
      const what = target.workflow.enabled ? `its trigger ${target.triggerId}` : 'the workflow'
      return problem(
        409,
        'HS_ERR_WORKFLOW_DISABLED',
        `the webhook is verified but ${what} of ${target.workflow.id} is disabled, so nothing starts; enable it and resend`,
      )
    }
    const parsed = parseWebhookBody(request, this.#o.limits ?? { depth: 32, keys: 10_000 })
    if ('problem' in parsed) return problem(400, 'HS_ERR_WEBHOOK_BODY', parsed.problem)
    const [result] = await this.#o.ingest.submit(
      [this.#event(request, path, target, check, parsed)],
      'trigger',
    )
    switch (result!.status) {
      case 'invalid':
        return problem(400, 'HS_ERR_EVENT_INVALID', 'the webhook does not make a valid event', {
          errors: result!.problems,
        })
      case 'rejected':
        return problem(
          422,
          'HS_ERR_EVENT_SCHEMA',
          `the webhook's event does not match the schema of ${WEBHOOK_EVENT_TYPE}; it was kept as rejected event ${result!.rejectedId}`,
          { errors: result!.problems, rejectedId: result!.rejectedId },
        )
      case 'duplicate':
        return {
          status: 200,
          body: { status: 'duplicate', id: result!.id, source: result!.source, seq: result!.seq, runs: [] },
        }
      case 'accepted': {
        const accepted = {
          status: 'accepted',
          id: result!.id,
          source: result!.source,
          seq: result!.seq,
          runs: result!.runIds,
        }
        const runId = result!.runIds[0]
        if (config.respond !== 'on_completion' || runId === undefined) return { status: 202, body: accepted }
        const end = await this.#wait(runId, config.timeoutMs, request.signal)
        return end === undefined
          ? {
              status: 202,
              body: {
                ...accepted,
                detail: `run ${runId} has not finished yet; GET /api/executions/${runId}`,
              },
            }
          : outcome(runId, result!.id, target.workflow.id, end)
      }
    }
  }

  /** Stops every wait in progress (those requests answer 202 with their run id) and unsubscribes. */
  close(): void {
    this.#closed = true
    this.#unsubscribe?.()
    for (const set of [...this.#waiters.values()]) for (const w of [...set]) w(undefined)
  }

  #find(path: string): HookTarget[] {
    const found: HookTarget[] = []
    if (path === '') return found
    for (const workflow of this.#o.workflows()) {
      const triggers = workflow.doc.triggers ?? []
      triggers.forEach((trigger, index) => {
        if (trigger.type !== 'webhook' || hookPath(trigger.path) !== path) return
        found.push({
          workflow,
          trigger,
          triggerId: typeof trigger.id === 'string' && trigger.id !== '' ? trigger.id : String(index),
        })
      })
    }
    return found
  }

  /** The trigger's settings with its secrets resolved and decoded, or what is wrong with them. */
  #config(target: HookTarget): HookConfig | string {
    const t = target.trigger
    const label = `trigger ${target.triggerId} of workflow ${target.workflow.id}`
    const scheme = (t.signature ?? 'standard') as SignatureScheme
    if (!SIGNATURE_SCHEMES.includes(scheme))
      return `${label}: signature must be one of ${SIGNATURE_SCHEMES.join(', ')}`
    const written = [
      ...(t.secret === undefined ? [] : [t.secret]),
      ...(Array.isArray(t.secrets) ? (t.secrets as unknown[]) : []),
    ]
    if (scheme === 'none' && written.length > 0)
      return `${label}: \`signature: none\` takes no secret; remove it, or choose standard or github`
    if (scheme !== 'none' && written.length === 0)
      return `${label}: \`signature: ${scheme}\` needs \`secret\` or \`secrets\` (or write \`signature: none\` to accept unsigned calls)`
    const keys: Uint8Array[] = []
    for (const [i, raw] of written.entries()) {
      const at = written.length > 1 ? `${label}, secret ${i + 1}` : label
      if (typeof raw !== 'string' || raw === '') return `${at}: a secret must be a non-empty string`
      let value = raw
      const ref = SECRET_REF.exec(raw)
      if (ref) {
        const stored = (this.#o.secrets ?? NO_SECRETS).get(ref[1]!)
        if (stored === undefined)
          return `${at}: secret ${ref[1]} is not in the secret store; add it with \`homeostat secrets set ${ref[1]}\``
        value = stored
      } else if (raw.includes('{{')) return `${at}: only \`{{ secrets.NAME }}\` may be written in a secret`
      if (scheme === 'github') keys.push(new TextEncoder().encode(value))
      else {
        const key = decodeStandardSecret(value)
        if (typeof key === 'string') return `${at}: ${key}`
        keys.push(key)
      }
    }
    const respond = t.respond ?? 'immediately'
    if (respond !== 'immediately' && respond !== 'on_completion')
      return `${label}: respond must be immediately or on_completion`
    const timeoutMs =
      t.timeout === undefined ? DEFAULT_RESPOND_TIMEOUT_MS : parseDuration(t.timeout as DurationInput)
    if (timeoutMs === undefined) return `${label}: timeout is not a duration`
    return { scheme, keys, respond, timeoutMs }
  }

  #verify(config: HookConfig, request: WebhookRequest): SignatureCheck {
    const { headers, body } = request
    switch (config.scheme) {
      case 'standard':
        return verifyStandard({ headers, body, keys: config.keys, nowMs: (this.#o.now ?? Date.now)() })
      case 'github':
        return verifyGithub({ headers, body, keys: config.keys })
      case 'none': {
        // unsigned: a sender-chosen id still lets its retries be recognised
        const id = headers['webhook-id']
        return { ok: true, id: typeof id === 'string' && /^[\x21-\x7e]{1,256}$/.test(id) ? id : '' }
      }
    }
  }

  #event(
    request: WebhookRequest,
    path: string,
    target: HookTarget,
    check: Extract<SignatureCheck, { ok: true }>,
    parsed: { body: unknown; encoding?: 'base64' },
  ): Record<string, unknown> {
    const headers: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(request.headers))
      if (value !== undefined && !CREDENTIAL_HEADERS.has(name)) headers[name] = value
    return {
      type: WEBHOOK_EVENT_TYPE,
      source: `homeostat://hooks/${path}`,
      // the sender's message id is the event id: the ingest's (source, id) dedupe drops replays
      ...(check.id === '' ? {} : { id: check.id }),
      datacontenttype: 'application/json',
      data: {
        workflow_id: target.workflow.id,
        trigger_id: target.triggerId,
        webhook_id: check.id === '' ? null : check.id,
        path,
        method: request.method,
        headers,
        query: { ...request.query },
        body: parsed.body,
        ...(parsed.encoding ? { body_encoding: parsed.encoding } : {}),
      },
    }
  }

  /**
   * Resolves with the run's end, or undefined on timeout, abort or close. The engine of this process
   * reports the end as it happens (the way `homeostat run --wait` follows a run); the store is re-read
   * every `pollMs` only in case another worker executes the run. Subscribing after the ingest's commit
   * is early enough: a run's end is committed in a later event-loop turn than its claim.
   */
  #wait(runId: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<RunEnd | undefined> {
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      let set = this.#waiters.get(runId)
      if (!set) this.#waiters.set(runId, (set = new Set()))
      let timer: NodeJS.Timeout | undefined
      let poll: NodeJS.Timeout | undefined
      const done = (end: RunEnd | undefined): void => {
        clearTimeout(timer)
        clearInterval(poll)
        signal?.removeEventListener('abort', onAbort)
        set.delete(done)
        if (set.size === 0) this.#waiters.delete(runId)
        resolve(end)
      }
      const onAbort = (): void => done(undefined)
      set.add(done)
      signal?.addEventListener('abort', onAbort)
      timer = setTimeout(() => done(undefined), timeoutMs)
      const getRun = this.#o.getRun
      poll = setInterval(() => {
        void getRun?.(runId).then(
          (run) => {
            if (run && TERMINAL_RUN_STATUSES.has(run.status) && set.has(done))
              done({ status: run.status, output: run.output, error: run.error })
          },
          (err: unknown) =>
            this.#o.log?.('warn', 'reading a webhook run failed', { runId, error: String(err) }),
        )
      }, this.#o.pollMs ?? 1000)
    })
  }
}

function problem(
  status: number,
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
): WebhookAnswer {
  return { status, problem: { code, detail, ...extra } }
}

function misconfigured(path: string): WebhookAnswer {
  return problem(
    500,
    'HS_ERR_WEBHOOK_CONFIG',
    `the webhook trigger at /hooks/${path} is misconfigured; the server log says how to fix it`,
  )
}

function outcome(runId: string, eventId: string, workflowId: string, end: RunEnd): WebhookAnswer {
  const headers = { 'homeostat-run-id': runId, 'homeostat-event-id': eventId }
  if (end.status === 'succeeded') return { status: 200, body: end.output ?? null, headers }
  return problem(
    500,
    'HS_ERR_WEBHOOK_RUN_FAILED',
    `run ${runId} of ${workflowId} ${end.status.replace('_', ' ')}: ${end.error?.message ?? 'no error was recorded'}`,
    {
      runId,
      eventId,
      runStatus: end.status,
      error: end.error ? { name: end.error.name, message: end.error.message, code: end.error.code } : null,
    },
  )
}
