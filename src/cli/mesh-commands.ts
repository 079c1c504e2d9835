import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { HsError } from '../core/errors.ts'
import type { IngestResult } from '../mesh/ingest.ts'
import { workflowsByHandler } from '../mesh/handler-registry.ts'
import type { RoutingDecision } from '../mesh/router.ts'
import type { App } from './app.ts'
import { EXIT, ExitCode, withApp } from './common.ts'
import { brief, paint, print, printJson, table, time } from './output.ts'
import { callServer, runningServer } from './server-client.ts'

/** `--data '{"a":1}'` or `--data @file.json`. */
export function readData(value: string | undefined): unknown {
  if (value === undefined) return undefined
  let text = value
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8')
    } catch (err) {
      throw new HsError('HS_ERR_USAGE', `--data ${value}: ${(err as Error).message}`)
    }
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HsError('HS_ERR_EVENT_INVALID', `--data is not JSON: ${(err as Error).message}`)
  }
}

function printResult(r: IngestResult): void {
  switch (r.status) {
    case 'accepted':
      print(
        `${paint('green', '✓')} accepted ${r.type} id ${r.id} (event #${r.seq}); ${r.runIds.length} run(s) started${r.runIds.length ? `: ${r.runIds.join(', ')}` : ''}`,
      )
      return
    case 'duplicate':
      print(
        `${paint('yellow', '=')} duplicate of event #${r.seq} (${r.source}, ${r.id}): acknowledged, not routed again`,
      )
      return
    case 'rejected':
      print(
        `${paint('red', '✗')} rejected ${r.type}: kept as rejected event ${r.rejectedId} (\`homeostat events replay ${r.rejectedId}\` after fixing)`,
      )
      for (const p of r.problems) print(`    ${p.pointer || '/'}: ${p.message}`)
      return
    case 'invalid':
      print(`${paint('red', '✗')} not a valid event:`)
      for (const p of r.problems) print(`    ${p.pointer || '/'}: ${p.message}`)
  }
}

/**
 * Publishes through the running server when there is one (so it routes and executes at once), else
 * into the store; `viaServer` says which.
 */
async function publish(app: App, body: unknown): Promise<{ result: IngestResult; viaServer: boolean }> {
  const base = runningServer(app.config.dataDir)
  if (base) return { result: await publishToServer(base, body), viaServer: true }
  const [result] = await (await app.ingest()).submit([body], 'cli')
  return { result: result!, viaServer: false }
}

async function publishToServer(base: string, body: unknown): Promise<IngestResult> {
  const { status, body: out } = await callServer<Record<string, unknown>>(base, 'POST', '/events', body)
  if (status === 202)
    return { ...(out as object), runIds: (out.runs as string[]) ?? [] } as unknown as IngestResult
  if (status === 422)
    return {
      status: 'rejected',
      rejectedId: out.rejectedId as number,
      problems: out.errors as [],
      id: '',
      source: '',
      type: '',
    } as IngestResult
  return {
    status: 'invalid',
    problems: (out.errors as []) ?? [{ pointer: '', message: String(out.detail) }],
  }
}

/** The outcome, and where it went: a server on another store (another `--config`) did not see it. */
function printPublished(app: App, { result, viaServer }: { result: IngestResult; viaServer: boolean }): void {
  printResult(result)
  if (!viaServer && result.status === 'accepted')
    print(
      paint(
        'gray',
        `  written to ${app.config.store} (no server runs on this store): its runs start when \`homeostat serve\` or \`homeostat worker\` runs with this configuration`,
      ),
    )
}

function printDecision(decision: RoutingDecision): void {
  print(`event type ${paint('bold', decision.eventType)}`)
  if (decision.matched.length === 0) print(paint('yellow', 'no workflow matches'))
  for (const m of decision.matched)
    print(`  ${paint('green', '✓ match')}  ${m.workflowId} v${m.version} (trigger ${m.triggerIndex})`)
  // workflows no event starts at all (manual, schedule, file watch) say little each: one line for them all
  const noTrigger = decision.skipped.filter((s) => s.reason === 'no_event_trigger')
  const grouped = noTrigger.length > 2
  for (const s of decision.skipped) {
    if (grouped && s.reason === 'no_event_trigger') continue
    print(`  ${paint('gray', `✗ ${s.reason.padEnd(16)}`)} ${s.workflowId} v${s.version}: ${s.detail}`)
  }
  if (grouped)
    print(
      `  ${paint('gray', `✗ ${'no_event_trigger'.padEnd(16)}`)} ${noTrigger.length} workflows without an event trigger (manual, schedule or file_change only): ${noTrigger.map((s) => s.workflowId).join(', ')} (--json has each one's reason)`,
    )
}

export function registerMeshCommands(program: Command): void {
  program
    .command('publish <type>')
    .description('publish an event (to the running server if any, else into the store)')
    .option('--data <json|@file>', 'the event data (JSON, or @file.json)')
    .option('--source <uri>', 'event source', 'homeostat://cli')
    .option('--id <id>', 'event id (default: generated); a repeated (source, id) is not routed twice')
    .option('--subject <subject>', 'event subject')
    .action((type: string, cmd: { data?: string; source: string; id?: string; subject?: string }) =>
      withApp(program, async (app, opts) => {
        const body = {
          type,
          source: cmd.source,
          ...(cmd.id ? { id: cmd.id } : {}),
          ...(cmd.subject ? { subject: cmd.subject } : {}),
          data: readData(cmd.data),
        }
        const published = await publish(app, body)
        const { result } = published
        if (opts.json) printJson(result)
        else printPublished(app, published)
        if (result.status === 'invalid' || result.status === 'rejected') throw new ExitCode(EXIT.badInput)
      })(),
    )

  program
    .command('explain <type>')
    .description('which workflows an event would start, and why each other one would not (creates nothing)')
    .option('--data <json|@file>', 'the event data')
    .option('--source <uri>', 'event source', 'homeostat://cli')
    .action((type: string, cmd: { data?: string; source: string }) =>
      withApp(program, async (app, opts) => {
        const result = (await app.ingest()).explain({ type, source: cmd.source, data: readData(cmd.data) })
        if (opts.json) return printJson(result)
        for (const p of result.problems) print(`${paint('red', '✗')} ${p.pointer || '/'}: ${p.message}`)
        if (result.problems.length > 0) print(paint('red', 'the event would be rejected: nothing would run'))
        if (result.decision) printDecision(result.decision)
      })(),
    )

  program
    .command('stats')
    .description("workflow and routing statistics (the source document's block)")
    .action(
      withApp(program, async (app, opts) => {
        const stats = await meshStats(app)
        if (opts.json) return printJson(stats)
        print(`Total Workflows: ${stats.totalWorkflows}`)
        print(`Enabled: ${stats.enabled}`)
        print(`Disabled: ${stats.disabled}`)
        print(`Unique Event Types: ${stats.uniqueEventTypes}`)
        print()
        print('Workflows by Kernel:')
        for (const { handler, workflows } of stats.workflowsByKernel) print(`  ${handler}: ${workflows}`)
        print()
        print('Router:')
        print(`  events_received: ${stats.router.events_received}`)
        print(`  events_rejected: ${stats.router.events_rejected}`)
        print(`  workflows_triggered: ${stats.router.workflows_triggered}`)
        print(`  workflows_failed: ${stats.router.workflows_failed}`)
        if (stats.router.by_type.length > 0) {
          print()
          print(
            table(
              ['EVENT TYPE', 'RECEIVED', 'RUNS'],
              stats.router.by_type.map((t) => [t.type, String(t.received), String(t.triggered)]),
            ),
          )
        }
      }),
    )

  for (const action of ['enable', 'disable'] as const) {
    program
      .command(`${action} <id>`)
      .description(`${action} a workflow (kept in the store; survives reload and restart; audited)`)
      .action((id: string) =>
        withApp(program, async (app, opts) => {
          const base = runningServer(app.config.dataDir)
          if (base) await callServer(base, 'POST', `/api/workflows/${encodeURIComponent(id)}/${action}`)
          else await (await app.registry()).setEnabled(id, action === 'enable', 'cli')
          if (opts.json) printJson({ id, enabled: action === 'enable', via: base ? 'server' : 'store' })
          else print(`${id} ${action}d${base ? ' on the running server' : ''}`)
        })(),
      )
  }

  program
    .command('reload')
    .description('re-read the workflow directories (on the running server, or into the store)')
    .action(
      withApp(program, async (app, opts) => {
        const base = runningServer(app.config.dataDir)
        const report = base
          ? (
              await callServer<{
                added: string[]
                changed: Array<{ id: string; from: number; to: number }>
                removed: string[]
                kept: string[]
                errors: Array<{ file: string; line: number; column: number; message: string }>
              }>(base, 'POST', '/api/reload')
            ).body
          : (await app.registry()).lastReport! // building the registry is the reload
        if (opts.json) return printJson(report)
        print(
          `reloaded${base ? ' on the running server' : ''}: ${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed`,
        )
        for (const c of report.changed) print(`  ${c.id}: v${c.from} → v${c.to}`)
        for (const e of report.errors)
          print(`  ${paint('red', '✗')} ${e.file}:${e.line}:${e.column}: ${e.message}`)
        if (report.kept.length > 0)
          print(paint('yellow', `  kept at their last good version: ${report.kept.join(', ')}`))
        if (report.errors.length > 0) throw new ExitCode(EXIT.badInput)
      }),
    )

  program
    .command('history <id>')
    .description('stored versions of a workflow')
    .action((id: string) =>
      withApp(program, async (app, opts) => {
        const versions = await app.store.listWorkflowVersions(id)
        if (versions.length === 0)
          throw new HsError('HS_ERR_WORKFLOW_NOT_FOUND', `no workflow \`${id}\` in the store`)
        if (opts.json) return printJson(versions)
        print(
          table(
            ['VERSION', 'HASH', 'AUTHOR', 'CREATED', 'SOURCE'],
            versions.map((v) => [
              String(v.version),
              v.hash.slice(0, 12),
              v.author,
              time(v.createdAt),
              v.sourcePath ?? '',
            ]),
          ),
        )
      })(),
    )

  program
    .command('rollback <id> <version>')
    .description('restore an older version (stored as the newest; in force until the file is edited again)')
    .action((id: string, version: string) =>
      withApp(program, async (app, opts) => {
        const v = Number(version)
        if (!Number.isInteger(v) || v < 1)
          throw new HsError('HS_ERR_USAGE', `version must be a positive integer, not ${version}`)
        const base = runningServer(app.config.dataDir)
        const newVersion = base
          ? (
              await callServer<{ version: number }>(
                base,
                'POST',
                `/api/workflows/${encodeURIComponent(id)}/rollback`,
                { version: v },
              )
            ).body.version
          : await (await app.registry()).rollback(id, v, 'cli')
        if (opts.json) printJson({ id, restored: v, version: newVersion })
        else
          print(
            newVersion === v
              ? `${id}: version ${v} is already in force`
              : `${id}: version ${v} restored as version ${newVersion}`,
          )
      })(),
    )

  const events = program.command('events').description('the event log and rejected events')
  events
    .command('list')
    .description('recent events, newest first')
    .option('--type <type>', 'only this type')
    .option('--limit <n>', 'how many', '20')
    .action((cmd: { type?: string; limit: string }) =>
      withApp(program, async (app, opts) => {
        const list = await app.mesh.recentEvents({ type: cmd.type, limit: Number(cmd.limit) || 20 })
        if (opts.json) return printJson(list)
        if (list.length === 0) return print('no events')
        print(
          table(
            ['SEQ', 'TYPE', 'SOURCE', 'ID', 'RECEIVED', 'VIA', 'RUNS', 'DATA'],
            list.map((e) => [
              String(e.seq),
              e.event.type,
              e.event.source,
              e.event.id,
              time(e.receivedAt),
              e.via,
              String(e.runs),
              brief(e.event.data, 50),
            ]),
          ),
        )
      })(),
    )
  events
    .command('rejected')
    .description('events refused by their schema, with the reasons')
    .option('--all', 'include replayed ones')
    .option('--limit <n>', 'how many', '20')
    .action((cmd: { all?: boolean; limit: string }) =>
      withApp(program, async (app, opts) => {
        const list = await app.mesh.listRejected({
          status: cmd.all ? undefined : 'rejected',
          limit: Number(cmd.limit) || 20,
        })
        if (opts.json) return printJson(list)
        if (list.length === 0) return print('no rejected events')
        for (const r of list) {
          print(
            `${paint('bold', `#${r.id}`)} ${r.type ?? '?'} from ${r.source ?? '?'} at ${time(r.receivedAt)} (${r.status}${r.replayedSeq ? ` as event #${r.replayedSeq}` : ''})`,
          )
          for (const p of r.reasons) print(`    ${p.pointer || '/'}: ${p.message}`)
        }
      })(),
    )
  events
    .command('replay <id>')
    .description('send a rejected event again, optionally with corrected data')
    .option('--data <json|@file>', 'replace the event data with this')
    .action((id: string, cmd: { data?: string }) =>
      withApp(program, async (app, opts) => {
        const rejected = await app.mesh.getRejected(Number(id))
        if (!rejected) throw new HsError('HS_ERR_EVENT_NOT_FOUND', `no rejected event ${id}`)
        if (rejected.status === 'replayed')
          throw new HsError(
            'HS_ERR_RUN_STATE',
            `rejected event ${id} was already replayed as event #${rejected.replayedSeq}`,
          )
        const body = {
          ...(rejected.body as object),
          ...(cmd.data === undefined ? {} : { data: readData(cmd.data) }),
        }
        const published = await publish(app, body)
        const { result } = published
        if (result.status === 'accepted' || result.status === 'duplicate')
          await app.mesh.markReplayed(rejected.id, result.seq)
        if (opts.json) printJson(result)
        else printPublished(app, published)
        if (result.status === 'invalid' || result.status === 'rejected') throw new ExitCode(EXIT.badInput)
      })(),
    )
}

/** The statistics block: the source document's figures plus the router counters. */
export async function meshStats(app: App): Promise<{
  totalWorkflows: number
  enabled: number
  disabled: number
  uniqueEventTypes: number
  eventTypes: string[]
  workflowsByKernel: Array<{ handler: string; workflows: number }>
  router: {
    events_received: number
    events_rejected: number
    workflows_triggered: number
    workflows_failed: number
    by_type: Array<{ type: string; received: number; triggered: number }>
    by_workflow: Array<{ workflowId: string; triggered: number; succeeded: number; failed: number }>
  }
}> {
  const registry = await app.registry()
  const entries = registry.list()
  const subscriptions = registry.router.subscriptions()
  const eventTypes = [...subscriptions.exact, ...subscriptions.wildcard].sort()
  const counters = await app.mesh.meshCounters()
  return {
    totalWorkflows: entries.length,
    enabled: entries.filter((e) => e.enabled).length,
    disabled: entries.filter((e) => !e.enabled).length,
    uniqueEventTypes: eventTypes.length,
    eventTypes,
    workflowsByKernel: workflowsByHandler(registry.inLoadOrder().map((e) => e.doc)),
    router: {
      events_received: counters.eventsReceived,
      events_rejected: counters.eventsRejected,
      workflows_triggered: counters.workflowsTriggered,
      workflows_failed: counters.workflowsFailed,
      by_type: counters.byType,
      by_workflow: counters.byWorkflow,
    },
  }
}
