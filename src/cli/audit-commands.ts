import type { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog, type AuditCheckpointExport, type AuditLogOptions } from '../audit/audit-log.ts'
import { loadOrCreateAuditKey } from '../audit/audit-keys.ts'
import type { AuditVerifyOptions } from '../audit/audit-verify.ts'
import type { AuditCheckpoint, AuditEntry, AuditEntryInput } from '../core/audit-port.ts'
import { parseDuration } from '../core/duration.ts'
import { HsError } from '../core/errors.ts'
import { SqliteAuditStore } from '../store/sqlite/sqlite-audit-store.ts'
import { openAuditDb } from '../store/sqlite/sqlite-audit-db.ts'
import type { Durability } from '../store/sqlite/sqlite-driver.ts'
import { AuditThread, type AuditHandle } from './audit-thread.ts'
import type { App } from './app.ts'
import { collect, EXIT, ExitCode, withApp } from './common.ts'
import { brief, paint, print, printJson, table, time } from './output.ts'

/** The signing key's file in the data directory (created with mode 0600 on first start). */
export const AUDIT_KEY_FILE = 'audit-ed25519.pem'

export type OpenAuditOptions = Omit<AuditLogOptions, 'store' | 'signer'>

/** The audit log's file in the data directory (see `openAuditDb`). */
export const AUDIT_DB_FILE = 'audit.db'

/**
 * How often the writer thread commits a steady stream of entries: larger transactions cost each
 * entry less (the last page of every index is written once per commit). Entries reach the file
 * within about this long; `flush`, `query`, `verify` and shutdown write at once.
 */
const AUDIT_THREAD_WRITE_EVERY_MS = 20

/** The audit log of a data directory (`<data dir>/audit.db`), signed with its key (generated on first start). */
export function openAuditLog(
  location: { dataDir: string; durability?: Durability },
  options: OpenAuditOptions = {},
): Promise<AuditLog> {
  return AuditLog.open({
    store: new SqliteAuditStore(
      openAuditDb(join(location.dataDir, AUDIT_DB_FILE), location.durability ?? 'process'),
    ),
    signer: loadOrCreateAuditKey(join(location.dataDir, AUDIT_KEY_FILE)),
    ...options,
  })
}

/**
 * Opens the app's audit log and points `app.auditSink` at it, so the ingest, the workflow registry
 * and the engine wiring audit into it. With `thread`, a worker thread writes it (long-running
 * commands: `serve`, `worker`). Close the log (it signs what it holds) before `app.close()`.
 */
export async function attachAuditLog(
  app: App,
  options: OpenAuditOptions = {},
  thread = false,
): Promise<AuditHandle> {
  const onError = (err: unknown): void =>
    app.log('error', 'audit log write failed', { error: (err as Error).message })
  const audit: AuditHandle = thread
    ? await AuditThread.start(
        {
          auditPath: join(app.config.dataDir, AUDIT_DB_FILE),
          keyFile: join(app.config.dataDir, AUDIT_KEY_FILE),
          durability: app.config.durability,
          options: {
            checkpointEvery: options.checkpointEvery,
            checkpointIntervalMs: options.checkpointIntervalMs,
            checkpointOnClose: options.checkpointOnClose,
            // the writer thread turns a steady stream into one transaction every 20 ms
            writeEveryMs: AUDIT_THREAD_WRITE_EVERY_MS,
          },
          walCheckpoint: { storePath: app.config.store, everyMs: 200 },
        },
        onError,
        // without the thread, the store checkpoints its WAL itself again
        () => app.store.handle.exec('PRAGMA wal_autocheckpoint = 1000'),
      )
    : await openAuditLog(app.config, { onError, ...options })
  // the thread checkpoints the store's WAL: the main thread's commits no longer stop for it
  if (thread) app.store.handle.exec('PRAGMA wal_autocheckpoint = 0')
  app.auditSink.write = (record) => {
    try {
      audit.append(record as AuditEntryInput)
    } catch (err) {
      app.log('error', 'audit entry refused', { type: record.type, error: (err as Error).message })
    }
  }
  return audit
}

/** Read-only commands neither sign nor start timers: they change nothing stored. */
const READ_ONLY: OpenAuditOptions = { checkpointEvery: 0, checkpointIntervalMs: 0, checkpointOnClose: false }

/** `24h`, `15m`, `7d` back from `now`, or an ISO 8601 timestamp. */
export function parseWhen(value: string, option: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = Date.parse(value)
    if (Number.isFinite(at)) return at
  } else {
    const ago = parseDuration(value)
    if (ago !== undefined) return now - ago
  }
  throw new HsError(
    'HS_ERR_USAGE',
    `${option} ${value}: use a duration back from now (24h, 15m, 7d) or an ISO timestamp (2025-01-31T12:00:00Z)`,
  )
}

/** Reads an `audit export` file (or a bare JSON array of checkpoints). */
export function readCheckpointFile(path: string): AuditVerifyOptions {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new HsError('HS_ERR_USAGE', `--checkpoints ${path}: ${(err as Error).message}`)
  }
  const file = (Array.isArray(parsed) ? { checkpoints: parsed } : parsed) as Partial<AuditCheckpointExport>
  if (typeof file !== 'object' || file === null || !Array.isArray(file.checkpoints)) {
    throw new HsError(
      'HS_ERR_USAGE',
      `--checkpoints ${path}: expected the JSON written by \`homeostat audit export\` ({publicKey, checkpoints})`,
    )
  }
  const options: AuditVerifyOptions = { checkpoints: file.checkpoints as AuditCheckpoint[] }
  if (typeof file.publicKey === 'string') options.publicKey = file.publicKey
  return options
}

function entryRow(e: AuditEntry): string[] {
  return [
    String(e.seq),
    time(e.at),
    e.type,
    e.workflowId ?? '',
    e.runId ?? '',
    e.component ?? e.actor ?? '',
    paint('gray', brief(e.data, 60)),
  ]
}

export function registerAuditCommands(
  program: Command,
  openAudit: (app: App, options: OpenAuditOptions) => Promise<AuditLog> = (app, options) =>
    openAuditLog(app.config, options),
): void {
  const withAudit = (
    options: OpenAuditOptions,
    fn: (audit: AuditLog, json: boolean) => Promise<void>,
  ): Promise<void> =>
    withApp(program, async (app, opts) => {
      const audit = await openAudit(app, options)
      try {
        await fn(audit, opts.json === true)
      } finally {
        await audit.close()
      }
    })()

  const audit = program
    .command('audit')
    .description('the tamper-evident audit log: query, verify, sign checkpoints, export them (docs/audit.md)')

  audit
    .command('query')
    .description('audit entries, the most recent last')
    .option(
      '--type <type>',
      'entry type (event.received, run.started, step.executed, …), repeatable',
      collect,
      [],
    )
    .option('--workflow <id>', 'only entries of this workflow')
    .option('--run <id>', 'only entries of this run')
    .option('--component <name>', 'only entries about this component')
    .option('--since <when>', 'from this long ago (24h, 15m, 7d) or an ISO timestamp')
    .option('--until <when>', 'up to (excluding) this long ago or this ISO timestamp')
    .option('--limit <n>', 'how many, the most recent (default 100)', '100')
    .option('--before <seq>', 'page: entries older than this seq')
    .action(
      (cmd: {
        type: string[]
        workflow?: string
        run?: string
        component?: string
        since?: string
        until?: string
        limit: string
        before?: string
      }) => {
        const limit = Number(cmd.limit)
        if (!Number.isInteger(limit) || limit < 1)
          throw new HsError('HS_ERR_USAGE', `--limit ${cmd.limit}: must be a positive integer`)
        const before = cmd.before === undefined ? undefined : Number(cmd.before)
        if (before !== undefined && !Number.isInteger(before))
          throw new HsError('HS_ERR_USAGE', `--before ${cmd.before}: must be an entry seq`)
        const now = Date.now()
        const since = cmd.since === undefined ? undefined : parseWhen(cmd.since, '--since', now)
        const until = cmd.until === undefined ? undefined : parseWhen(cmd.until, '--until', now)
        return withAudit(READ_ONLY, async (log, json) => {
          const entries = (
            await log.query({
              type: cmd.type.length === 0 ? undefined : cmd.type.length === 1 ? cmd.type[0] : cmd.type,
              workflowId: cmd.workflow,
              runId: cmd.run,
              component: cmd.component,
              since,
              until,
              beforeSeq: before,
              limit,
              order: 'desc',
            })
          ).reverse()
          if (json) return printJson(entries)
          if (entries.length === 0) return print('no audit entries')
          print(table(['SEQ', 'TIME', 'TYPE', 'WORKFLOW', 'RUN', 'COMPONENT', 'DATA'], entries.map(entryRow)))
          if (entries.length === limit) print(paint('gray', `older: --before ${entries[0]!.seq}`))
        })
      },
    )

  audit
    .command('verify')
    .description(
      'recompute every hash, link and signed checkpoint; exit 1 naming the first bad entry if anything was altered',
    )
    .option(
      '--checkpoints <file>',
      'also check the checkpoints of an `audit export` file kept elsewhere (detects truncation)',
    )
    .action((cmd: { checkpoints?: string }) => {
      const options = cmd.checkpoints ? readCheckpointFile(cmd.checkpoints) : {}
      return withAudit(READ_ONLY, async (log, json) => {
        const result = await log.verify(options)
        if (json) printJson(result)
        else if (result.ok) {
          print(
            `${paint('green', '✓')} audit log intact: ${result.entries} entries, ${result.checkpointsVerified} signed checkpoint(s) verified`,
          )
          if (result.unsignedTail > 0)
            print(
              paint(
                'yellow',
                `  ${result.unsignedTail} entries after the last checkpoint are not signed yet (\`homeostat audit checkpoint\` signs them)`,
              ),
            )
        } else {
          const bad = result.firstBad
          print(`${paint('red', '✗')} audit log tampered: entry ${bad.seq} ${paint('bold', bad.reason)}`)
          print(`  ${bad.message}`)
        }
        if (!result.ok) throw new ExitCode(EXIT.runFailed)
      })
    })

  audit
    .command('checkpoint')
    .description(
      'sign the current tree head now (the server also signs every 1000 entries, hourly and on stop)',
    )
    .action(() =>
      withAudit(READ_ONLY, async (log, json) => {
        const c = await log.checkpoint()
        if (json) return printJson(c)
        print(
          `${paint('green', '✓')} checkpoint of ${c.treeSize} entries signed by key ${c.keyId}: root ${c.rootHash}`,
        )
      }),
    )

  audit
    .command('export')
    .description(
      'the signed checkpoints and the public key, as JSON to keep elsewhere (pass back to `audit verify --checkpoints`)',
    )
    .option('--out <file>', 'write to this file instead of stdout')
    .action((cmd: { out?: string }) =>
      withAudit(READ_ONLY, async (log) => {
        const exported = await log.exportCheckpoints()
        if (!cmd.out) return printJson(exported)
        writeFileSync(cmd.out, `${JSON.stringify(exported, null, 2)}\n`)
        print(
          `${paint('green', '✓')} wrote ${exported.checkpoints.length} checkpoint(s) and key ${exported.keyId} to ${cmd.out}`,
        )
      }),
    )
}
