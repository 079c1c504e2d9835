/**
 * Errors that tell the engine what to do next, and the catalogue of stable error codes.
 * Every code is listed in docs/errors.md; a test keeps the two in step.
 */

export const ERROR_CODES = {
  HS_ERR_WORKFLOW_INVALID: {
    status: 400,
    fix: 'Fix the listed problems in the workflow file; `homeostat validate` shows them all.',
  },
  HS_ERR_WORKFLOW_NOT_FOUND: {
    status: 404,
    fix: 'Check the id with `homeostat list`, or pass a path to a workflow file.',
  },
  HS_ERR_WORKFLOW_DISABLED: { status: 409, fix: 'Enable the workflow (`enabled: true`) before running it.' },
  HS_ERR_INPUT_INVALID: {
    status: 400,
    fix: "Pass inputs that match the workflow's `inputs` schema (`homeostat show <id>`).",
  },
  HS_ERR_RUN_NOT_FOUND: { status: 404, fix: 'Check the run id with `homeostat runs list`.' },
  HS_ERR_RUN_STATE: {
    status: 409,
    fix: 'The run is not in a state that allows this; `homeostat runs show <id>` shows its state.',
  },
  HS_ERR_EXPR_PARSE: { status: 400, fix: 'Correct the CEL expression at the position shown.' },
  HS_ERR_EXPR_LIMIT: {
    status: 400,
    fix: 'Shorten or simplify the expression; limits are listed in docs/expressions.md.',
  },
  HS_ERR_EXPR_EVAL: {
    status: 422,
    fix: 'The expression failed on this data; check the fields it reads exist and have the expected types.',
  },
  HS_ERR_EXPR_BUDGET: {
    status: 422,
    fix: 'The expression used more than its evaluation budget; reduce the work it does.',
  },
  HS_ERR_ACTION_UNKNOWN: { status: 400, fix: 'Use an action listed by `homeostat actions`.' },
  HS_ERR_ACTION_PARAMS: { status: 400, fix: "Pass `with` parameters that match the action's schema." },
  HS_ERR_STEP_TIMEOUT: { status: 504, fix: 'Raise the step `timeout`, or make the action faster.' },
  HS_ERR_RUN_TIMEOUT: { status: 504, fix: 'Raise `settings.timeout`, or make the workflow faster.' },
  HS_ERR_STEP_FAILED: {
    status: 500,
    fix: 'See the step error; `on_error: continue` lets the run go on past it.',
  },
  HS_ERR_STEP_INTERRUPTED: {
    status: 500,
    fix: 'The process running this step died repeatedly; check the action for crashes or memory use.',
  },
  HS_ERR_CONFIG_INVALID: {
    status: 400,
    fix: 'Fix the configuration key named in the message (homeostat.yaml, HOMEOSTAT_* or a flag).',
  },
  HS_ERR_STORE_SCHEMA: {
    status: 500,
    fix: 'The store was written by a newer homeostat; upgrade, or point --store at another file.',
  },
  HS_ERR_USAGE: { status: 400, fix: 'See `homeostat --help` for the command and its options.' },
  HS_ERR_EVENT_INVALID: {
    status: 400,
    fix: 'Send a CloudEvents 1.0 envelope (or {type, data}); the errors list each problem as a JSON pointer.',
  },
  HS_ERR_EVENT_SCHEMA: {
    status: 422,
    fix: "Make `data` match the type's schema (schemas/*.yaml); then `homeostat events replay <id>`.",
  },
  HS_ERR_EVENT_TOO_LARGE: {
    status: 413,
    fix: 'Send a smaller body (default limit 1 MiB, `ingest.max_body` in homeostat.yaml), or split a batch.',
  },
  HS_ERR_EVENT_LIMIT: {
    status: 400,
    fix: 'Flatten the event: its nesting depth or key count is over the limit named in the message.',
  },
  HS_ERR_EVENT_CONTENT_TYPE: {
    status: 415,
    fix: 'Use application/cloudevents+json, application/cloudevents-batch+json, application/json, or binary mode with ce-* headers.',
  },
  HS_ERR_EVENT_NOT_FOUND: {
    status: 404,
    fix: 'Check the id with `homeostat events rejected` or `homeostat events list`.',
  },
  HS_ERR_CHAT_INVALID: {
    status: 400,
    fix: 'Send `{ "text": "..." }` to a session named with letters, digits and _ . : - (limits in docs/actions-data-chat.md).',
  },
  HS_ERR_PLUGIN_INVALID: {
    status: 400,
    fix: 'Fix the plugin named in the message (its definePlugin export, an action schema, a name clash); docs/plugins.md.',
  },
  HS_ERR_BAD_REQUEST: { status: 400, fix: 'Check the request against the API routes in the README.' },
  HS_ERR_INTERNAL: { status: 500, fix: 'A bug: the server log has the details; please report it.' },
  HS_ERR_SECRET_NOT_FOUND: {
    status: 404,
    fix: 'Set it with `homeostat secrets set NAME` (names are case-sensitive; `homeostat secrets list` shows them).',
  },
  HS_ERR_SECRET_INVALID: {
    status: 400,
    fix: 'Name a secret with letters, digits and _ (not starting with a digit), and give a value of 4 to 65536 characters.',
  },
  HS_ERR_SECRET_KEY: {
    status: 500,
    fix: 'Restore the key file named in the message (`secrets.key_file`), or set HOMEOSTAT_SECRETS_KEY to the base64 key the secrets were stored with.',
  },
  HS_ERR_PATH_REFUSED: {
    status: 403,
    fix: 'Use a path inside `files.roots` (relative paths start at the first root), without NUL or control characters, backslashes, or symlinks leading out.',
  },
  HS_ERR_FILE_NOT_FOUND: { status: 404, fix: 'Check the path with `file.list`, or create the file first.' },
  HS_ERR_FILE_EXISTS: { status: 409, fix: 'Pass `overwrite: true`, or choose another destination.' },
  HS_ERR_FILE_TOO_LARGE: {
    status: 413,
    fix: 'Raise `files.max_bytes` (or `shell.max_output`) in homeostat.yaml, or work on a smaller file.',
  },
  HS_ERR_COMMAND_FAILED: {
    status: 422,
    fix: 'The message has the exit code and the end of stderr; fix the command, or list the code in `ok_exit_codes` / set `allow_failure: true`.',
  },
  HS_ERR_COMMAND_NOT_FOUND: {
    status: 400,
    fix: 'Give an absolute path to the program, or allow PATH in `shell.env` and check the program is installed.',
  },
  HS_ERR_COMMAND_TIMEOUT: {
    status: 504,
    fix: 'Raise the step `timeout` (or `shell.timeout` in homeostat.yaml), or make the command faster.',
  },
  HS_ERR_GIT_ARG_REFUSED: {
    status: 400,
    fix: 'Pass plain branch, ref, remote and path names: no leading `-`, no `ext::`/`file://` transports, no control characters, paths inside the repository.',
  },
  HS_ERR_GIT_FAILED: {
    status: 422,
    fix: "The message has git's own error; fix the repository state it names.",
  },
  HS_ERR_GIT_CONFLICT: {
    status: 409,
    fix: 'Resolve the conflicting files named in the message and commit, or pass `allow_conflicts: true` to handle them in a later step.',
  },
  HS_ERR_GIT_NOTHING_TO_COMMIT: {
    status: 409,
    fix: 'Stage changes first (`git.add` or `files`), or pass `allow_empty: true`.',
  },
  HS_ERR_HTTP_DESTINATION_DENIED: {
    status: 403,
    fix: 'The destination guard refused the URL (the message says why). If it is meant to be reached, add its host, IP or CIDR to `http.allow` in homeostat.yaml; only http and https are allowed.',
  },
  HS_ERR_HTTP_RESPONSE_TOO_LARGE: {
    status: 502,
    fix: 'Ask the server for less, or raise `max_response` on the step (at most `http.max_response` in homeostat.yaml).',
  },
  HS_ERR_HTTP_STATUS: {
    status: 502,
    fix: 'The server answered with an error status (the message has it and the start of the body); fix the request, or pass `fail_on_status: false` to handle the status in a later step.',
  },
  HS_ERR_HTTP_TIMEOUT: {
    status: 504,
    fix: 'Raise the step `timeout` parameter (or `http.timeout` / the provider `timeout` in homeostat.yaml), or check the server is answering.',
  },
  HS_ERR_AI_CONFIG: {
    status: 400,
    fix: 'Configure the provider under `ai.providers` in homeostat.yaml (and `ai.default`), and store its API key with `homeostat secrets set <api_key_secret>`.',
  },
  HS_ERR_AI_PROVIDER: {
    status: 502,
    fix: "The LLM provider refused the request; the message has the provider's own error. Check the model name, the API key and `max_tokens`.",
  },
  HS_ERR_AI_ANSWER: {
    status: 422,
    fix: 'The model did not answer with the JSON asked for; make the instructions or `schema` simpler, raise `max_tokens`, or retry the step.',
  },
  HS_ERR_NOTIFY_CONFIG: {
    status: 400,
    fix: 'Configure `notify.slack` / `notify.email` in homeostat.yaml (or pass `webhook_url`), and store the named secret with `homeostat secrets set`.',
  },
  HS_ERR_NOTIFY_FAILED: {
    status: 502,
    fix: "The chat or mail server refused the message; the message has its answer (Slack's error text, the SMTP reply).",
  },
  HS_ERR_WEBHOOK_NOT_FOUND: {
    status: 404,
    fix: "Check the URL: a webhook trigger's `path` is served at /hooks/<path> (`homeostat show <workflow>` lists the triggers).",
  },
  HS_ERR_WEBHOOK_SIGNATURE: {
    status: 401,
    fix: "Sign the request with the trigger's secret: Standard Webhooks headers (webhook-id, webhook-timestamp within 5 minutes, webhook-signature), or X-Hub-Signature-256 and X-GitHub-Delivery for `signature: github`; `reason` says what failed.",
  },
  HS_ERR_WEBHOOK_CONFIG: {
    status: 500,
    fix: 'Fix the webhook trigger the server log names: `signature: standard|github` needs `secret` or `secrets` (`whsec_<base64>` of 24+ bytes for standard; `{{ secrets.NAME }}` must be in `homeostat secrets list`), and one path belongs to one trigger.',
  },
  HS_ERR_WEBHOOK_BODY: {
    status: 400,
    fix: 'Send a body that matches its Content-Type (valid UTF-8 JSON for application/json), within the nesting and key limits (`ingest.max_depth`, `ingest.max_keys`).',
  },
  HS_ERR_WEBHOOK_RUN_FAILED: {
    status: 500,
    fix: 'The run the webhook started did not succeed; `error` says why, and `homeostat runs show <runId>` has every step.',
  },
  HS_ERR_TRIGGER_SETUP: {
    status: 400,
    fix: 'Fix the trigger the server log names (a `file_change` glob inside `files.roots`, without `..`; a valid cron pattern); its workflow runs its other triggers meanwhile, and the trigger starts once its workflow is reloaded.',
  },
  HS_ERR_SERVER_LISTEN: {
    status: 409,
    fix: 'Another process holds the address (often another `homeostat serve`): stop it, or pick another port with `--port` or `server.port`.',
  },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** An error with a stable code, for users (bad input) or operators (state, configuration). */
export class HsError extends Error {
  readonly code: ErrorCode
  readonly details: unknown
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HsError'
    this.code = code
    this.details = options?.details
  }
}

/** Thrown by an action when retrying cannot help (bad credentials, 4xx, invalid data). */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NonRetryableError'
  }
}

/** Thrown by an action that knows when to try again (HTTP 429 `Retry-After`, rate limits). */
export class RetryAfterError extends Error {
  readonly retryAfterMs: number
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RetryAfterError'
    this.retryAfterMs = retryAfterMs
  }
}

export class StepTimeoutError extends Error {
  readonly code = 'HS_ERR_STEP_TIMEOUT'
  constructor(stepId: string, timeoutMs: number) {
    super(`step ${stepId} timed out after ${timeoutMs}ms`)
    this.name = 'StepTimeoutError'
  }
}

/** The serialised form of an error as kept in step records and run rows. */
export interface ErrorRecord {
  name: string
  message: string
  code?: string
  retryable?: boolean
  stack?: string
  cause?: ErrorRecord
}

/** Normalises anything thrown into an `ErrorRecord`, keeping the `cause` chain (depth-capped). */
export function toErrorRecord(err: unknown, depth = 0): ErrorRecord {
  if (err instanceof Error) {
    const record: ErrorRecord = { name: err.name, message: err.message }
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') record.code = code
    if (err instanceof NonRetryableError) record.retryable = false
    if (err.cause !== undefined && depth < 5) record.cause = toErrorRecord(err.cause, depth + 1)
    return record
  }
  if (typeof err === 'string') return { name: 'Error', message: err }
  let message: string
  try {
    message = JSON.stringify(err) ?? String(err)
  } catch {
    message = String(err)
  }
  return { name: 'Error', message }
}
