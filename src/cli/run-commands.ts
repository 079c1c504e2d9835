import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { HsError } from '../core/errors.ts'
import {
  RUN_STATUSES,
  TERMINAL_RUN_STATUSES,
  type RunRecord,
  type RunStatus,
  type StepAttemptRecord,
} from '../core/store-port.ts'
import type { EngineEvent } from '../engine/engine-events.ts'
import type { App } from './app.ts'
import { collect, EXIT, ExitCode, withApp, type GlobalOptions } from './common.ts'
import { wireEngine } from './serve-command.ts'
import { dryRunReport } from '../core/dry-run.ts'
import { printDryRun } from './dry-run-output.ts'
import { brief, duration, paint, print, printJson, status, STATUS_ICON, table, time } from './output.ts'

function parseInputs(pairs: string[], file: string | undefined): Record<string, unknown> {
  let inputs: Record<string, unknown> = {}
  if (file) {
    let data: unknown
    try {
      data = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new HsError('HS_ERR_INPUT_INVALID', `--inputs ${file}: ${(err as Error).message}`)
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new HsError('HS_ERR_INPUT_INVALID', `--inputs ${file}: must hold a JSON object`)
    inputs = data as Record<string, unknown>
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new HsError('HS_ERR_INPUT_INVALID', `--input ${pair}: expected name=value`)
    inputs[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return inputs
}

async function runDetails(
  app: App,
  runId: string,
): Promise<{ run: RunRecord; attempts: StepAttemptRecord[] }> {
  const run = await app.store.getRun(runId)
  if (!run) throw new HsError('HS_ERR_RUN_NOT_FOUND', `no run ${runId}`)
  return { run, attempts: await app.store.listStepAttempts(runId) }
}

function exitFor(run: RunRecord): number {
  return run.status === 'succeeded' || !TERMINAL_RUN_STATUSES.has(run.status) ? EXIT.ok : EXIT.runFailed
}

function printStepEvent(event: EngineEvent, stepStart: Map<string, number>): void {
  const at = performance.now()
  switch (event.type) {
    case 'step.started':
      stepStart.set(event.stepId, at)
      return
    case 'step.completed':
      print(
        `  ${paint('green', STATUS_ICON.succeeded!)} ${event.stepId.padEnd(18)} ${duration(at - (stepStart.get(event.stepId) ?? at)).padStart(8)}  ${paint('gray', brief(event.output))}`,
      )
      return
    case 'step.failed':
      print(
        `  ${paint('red', STATUS_ICON.failed!)} ${event.stepId.padEnd(18)} ${duration(at - (stepStart.get(event.stepId) ?? at)).padStart(8)}  ${paint('red', event.error?.message ?? '')}`,
      )
      return
    case 'step.skipped':
      print(
        `  ${paint('gray', `${STATUS_ICON.skipped!} ${event.stepId.padEnd(18)}     skip  ${event.reason}`)}`,
      )
      return
    case 'step.retrying':
      print(
        `  ${paint('yellow', '↻')} ${event.stepId.padEnd(18)} attempt ${event.attempt} failed: ${event.error.message}; retry in ${duration(event.delayMs)}`,
      )
      return
    case 'step.waiting':
      print(
        `  ${paint('magenta', STATUS_ICON.waiting!)} ${event.stepId.padEnd(18)}  waiting for signal \`${event.signal}\``,
      )
      return
    default:
      return
  }
}

export function registerRunCommands(program: Command): void {
  program
    .command('run <workflow>')
    .description('run a workflow by id or file; --wait follows it step by step')
    .option('--input <name=value>', 'an input value, repeatable', collect, [])
    .option('--inputs <file.json>', 'inputs from a JSON file')
    .option('--wait', 'execute here and print each step and the result')
    .option(
      '--dry-run',
      'execute here as a test run: side-effecting steps print what they would do instead of doing it; read-only steps run',
    )
    .action((ref: string, cmd: { input: string[]; inputs?: string; wait?: boolean; dryRun?: boolean }) =>
      withApp(program, async (app, opts: GlobalOptions) => {
        const workflow = await app.resolveWorkflow(ref)
        const inputs = parseInputs(cmd.input, cmd.inputs)
        const runId = await app.runs.submit(
          workflow,
          inputs,
          { type: 'manual', source: 'cli' },
          { isTest: cmd.dryRun === true },
        )
        const liveWorkers = (await app.store.listWorkers()).filter(
          (w) => Date.now() - w.heartbeatAt < app.config.worker.leaseMs,
        )
        if (!cmd.wait && !cmd.dryRun && liveWorkers.length > 0) {
          if (opts.json)
            printJson({ runId, status: 'queued', workflow: workflow.workflowId, version: workflow.version })
          else
            print(
              `queued run ${runId} of ${workflow.workflowId} v${workflow.version}; a worker will execute it (\`homeostat runs show ${runId}\`)`,
            )
          return
        }
        const engine = app.newEngine({ onlyRunIds: [runId] })
        await wireEngine(app, engine)
        const stepStart = new Map<string, number>()
        if (!opts.json) {
          print(
            `${paint('cyan', '▶')} ${workflow.workflowId} v${workflow.version}  run ${paint('bold', runId)}`,
          )
          if (cmd.wait) engine.onEvent((e) => e.runId === runId && printStepEvent(e, stepStart))
        }
        let poll: NodeJS.Timeout | undefined
        let interrupted: (() => void) | undefined
        const finished = new Promise<void>((resolve) => {
          interrupted = resolve
          engine.onEvent((e) => {
            if (e.runId === runId && e.type.startsWith('workflow.') && e.type !== 'workflow.started')
              resolve()
          })
          // another worker may have claimed the run first: follow it through the store
          poll = setInterval(() => {
            void app.store.getRun(runId).then((r) => {
              if (
                engine.activeRuns === 0 &&
                r &&
                (TERMINAL_RUN_STATUSES.has(r.status) || r.status === 'waiting' || r.status === 'paused')
              )
                resolve()
            })
          }, 250)
        })
        let stopping: Promise<void> | undefined
        const stop = (): void => {
          if (!opts.json)
            print(
              'interrupted: running steps may finish; the run resumes in the next worker (`homeostat worker`)',
            )
          stopping = engine.stop({ graceMs: app.config.worker.graceMs })
          void stopping.then(interrupted)
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        await engine.start()
        await finished
        clearInterval(poll)
        await (stopping ?? engine.stop())
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        const { run, attempts } = await runDetails(app, runId)
        const actionOf = (stepId: string) => workflow.definition.steps.find((s) => s.id === stepId)?.uses
        const plan = cmd.dryRun ? dryRunReport(attempts, actionOf) : undefined
        if (opts.json) printJson({ ...run, steps: attempts, ...(plan ? { plan } : {}) })
        else {
          if (plan) printDryRun(plan)
          const icon = STATUS_ICON[run.status] ?? '?'
          print(
            `${run.status === 'succeeded' ? paint('green', icon) : paint('red', icon)} ${status(run.status)} in ${duration(run.durationMs)}`,
          )
          if (run.status === 'succeeded') print(`output: ${JSON.stringify(run.output, null, 2)}`)
          else if (run.error) print(`${paint('red', 'error')}: ${run.error.message}`)
          if (run.status === 'waiting')
            print(`waiting for a signal: \`homeostat runs signal ${runId} <name>\``)
        }
        throw new ExitCode(stopping ? EXIT.interrupted : exitFor(run))
      })(),
    )

  const runs = program.command('runs').description('run history and control')

  runs
    .command('list')
    .description('list runs, newest first')
    .option('--workflow <id>', 'only runs of this workflow')
    .option(
      '--status <status>',
      `only runs in this status (${RUN_STATUSES.join(', ')}), repeatable`,
      collect,
      [],
    )
    .option('--limit <n>', 'how many (default 20)', '20')
    .option('--before <run-id>', 'page: runs older than this one')
    .action((cmd: { workflow?: string; status: string[]; limit: string; before?: string }) =>
      withApp(program, async (app, opts) => {
        for (const s of cmd.status) {
          if (!(RUN_STATUSES as readonly string[]).includes(s))
            throw new HsError('HS_ERR_USAGE', `--status ${s}: use one of ${RUN_STATUSES.join(', ')}`)
        }
        const limit = Number(cmd.limit)
        if (!Number.isInteger(limit) || limit < 1)
          throw new HsError('HS_ERR_USAGE', `--limit ${cmd.limit}: must be a positive integer`)
        const list = await app.store.listRuns({
          workflowId: cmd.workflow,
          status: cmd.status as RunStatus[],
          limit,
          before: cmd.before,
        })
        if (opts.json) return printJson(list)
        if (list.length === 0) return print('no runs')
        print(
          table(
            ['RUN', 'WORKFLOW', 'VER', 'STATUS', 'TRIGGER', 'CREATED', 'DURATION'],
            list.map((r) => [
              r.id,
              r.workflowId,
              String(r.workflowVersion),
              status(r.status),
              r.isTest ? `${r.trigger.type} (test)` : r.trigger.type,
              time(r.createdAt),
              duration(r.durationMs),
            ]),
          ),
        )
        if (list.length === limit) print(paint('gray', `more: --before ${list.at(-1)!.id}`))
      })(),
    )

  runs
    .command('show <run-id>')
    .description('a run with every step attempt: input, output, error, timing')
    .action((runId: string) =>
      withApp(program, async (app, opts) => {
        const { run, attempts } = await runDetails(app, runId)
        if (opts.json) return printJson({ ...run, steps: attempts })
        print(`run       ${paint('bold', run.id)}`)
        print(`workflow  ${run.workflowId} v${run.workflowVersion}`)
        print(
          `status    ${status(run.status)}${run.attempt > 1 ? ` (run attempt ${run.attempt})` : ''}${run.isTest ? '   test run (dry run: side effects planned, not performed)' : ''}`,
        )
        print(`trigger   ${JSON.stringify(run.trigger)}`)
        print(`inputs    ${JSON.stringify(run.inputs)}`)
        print(
          `created   ${time(run.createdAt)}   started ${time(run.startedAt)}   ended ${time(run.endedAt)}   duration ${duration(run.durationMs)}`,
        )
        if (run.error) print(`error     ${paint('red', run.error.message)}`)
        if (run.output !== undefined) print(`output    ${JSON.stringify(run.output)}`)
        print()
        if (attempts.length === 0) return print('no step has run yet')
        print(
          table(
            ['STEP', 'ITER', 'TRY', 'STATUS', 'STARTED', 'DURATION', 'DETAIL'],
            attempts.map((a) => [
              a.stepId,
              a.iteration < 0 ? 'all' : String(a.iteration),
              String(a.attempt),
              status(a.status),
              time(a.startedAt),
              duration(a.durationMs),
              a.error
                ? paint('red', brief(a.error.message, 60))
                : a.status === 'skipped'
                  ? brief((a.detail as { reason?: string })?.reason, 60)
                  : '',
            ]),
          ),
        )
        for (const a of attempts) {
          if (a.status === 'skipped') continue
          print()
          print(
            paint(
              'bold',
              `${a.stepId}${a.iteration >= 0 ? `[${a.iteration}]` : ''} try ${a.attempt}  ${a.idempotencyKey ? paint('gray', `key ${a.idempotencyKey}`) : ''}`,
            ),
          )
          if (a.input !== undefined) print(`  input   ${JSON.stringify(a.input)}`)
          if (a.output !== undefined) print(`  output  ${JSON.stringify(a.output)}`)
          if (a.error) print(`  error   ${paint('red', `${a.error.name}: ${a.error.message}`)}`)
          const logs = (a.detail as { logs?: string[] } | undefined)?.logs
          for (const line of logs ?? []) print(`  log     ${line}`)
        }
      })(),
    )

  const control = (name: 'cancel' | 'pause' | 'resume' | 'retry', description: string): void => {
    runs
      .command(`${name} <run-id>`)
      .description(description)
      .action((runId: string) =>
        withApp(program, async (app, opts) => {
          await app.runs[name](runId)
          const run = (await app.store.getRun(runId))!
          if (opts.json) printJson({ runId, action: name, status: run.status, control: run.control })
          else
            print(
              `${name}: run ${runId} is now ${status(run.status)}${run.control ? ` (${run.control} requested from its worker)` : ''}`,
            )
        })(),
      )
  }
  control('cancel', 'cancel a run: running steps are aborted')
  control('pause', 'pause a run: no new step starts; running steps finish')
  control('resume', 'resume a paused run')
  control('retry', 'retry a failed, cancelled or timed-out run from its failed steps')

  runs
    .command('signal <run-id> <name>')
    .description('deliver a named signal to a waiting run (wait.signal steps)')
    .option('--data <json>', 'payload (JSON)', 'null')
    .action((runId: string, name: string, cmd: { data: string }) =>
      withApp(program, async (app, opts) => {
        let payload: unknown
        try {
          payload = JSON.parse(cmd.data)
        } catch (err) {
          throw new HsError('HS_ERR_INPUT_INVALID', `--data: not JSON: ${(err as Error).message}`)
        }
        await app.runs.signal(runId, name, payload)
        if (opts.json) printJson({ runId, signal: name, delivered: true })
        else print(`signal \`${name}\` delivered to run ${runId}`)
      })(),
    )
}
