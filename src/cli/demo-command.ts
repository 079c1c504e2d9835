import type { Command } from 'commander'
import { relative, resolve } from 'node:path'
import { HsError } from '../core/errors.ts'
import { TERMINAL_RUN_STATUSES, type RunRecord } from '../core/store-port.ts'
import type { App } from './app.ts'
import { EXIT, ExitCode, withApp } from './common.ts'
import { duration, paint, print, printJson } from './output.ts'
import { runningServer } from './server-client.ts'
import { startServer } from './serve-command.ts'

const SCENARIO = {
  type: 'test_quality.healing_required',
  source: 'homeostat://demo/test-quality-monitor',
  data: {
    component_id: 'ingress_kernel',
    status: 'CRITICAL',
    score: 45.0,
    severity: 'CRITICAL',
    recommended_actions: ['Review recent code changes', 'Check system resources'],
  },
}

async function waitForRun(app: App, runId: string): Promise<RunRecord> {
  for (let i = 0; i < 600; i++) {
    const run = await app.store.getRun(runId)
    if (run && TERMINAL_RUN_STATUSES.has(run.status)) return run
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new HsError('HS_ERR_RUN_STATE', `run ${runId} did not finish within 15 s`)
}

/**
 * The source document's scenario "component quality drops below 50%", played end to end through the
 * real path: an HTTP POST to a server (the running one, or one started here), routing, the engine,
 * the handler, the emitted follow-up event, and the audit trail — each step printed with what was
 * measured.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description("play the source document's scenario (quality below 50%) end to end, narrated")
    .action(
      withApp(program, async (app, opts) => {
        const registry = await app.registry()
        if (!registry.get('test_quality_critical_healing')) {
          throw new HsError(
            'HS_ERR_WORKFLOW_NOT_FOUND',
            "the demo needs the source document's workflows (examples/mesh): run it in the repository, or `npx homeostat --config examples/homeostat.yaml demo`",
          )
        }
        let base = runningServer(app.config.dataDir)
        const own = base ? undefined : await startServer(app, { host: '127.0.0.1', port: 0, watch: false })
        base ??= own!.url
        try {
          const id = `demo-${Date.now()}`
          const t0 = performance.now()
          const response = await fetch(`${base}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify({ specversion: '1.0', id, ...SCENARIO }),
          })
          const ackMs = performance.now() - t0
          const ack = (await response.json()) as {
            status: string
            seq: number
            runs: string[]
            detail?: string
          }
          if (response.status !== 202)
            throw new HsError(
              'HS_ERR_EVENT_INVALID',
              `the server refused the event: ${ack.detail ?? response.status}`,
            )
          const runId = ack.runs[0]
          if (!runId)
            throw new HsError(
              'HS_ERR_WORKFLOW_DISABLED',
              'no workflow matched (is test_quality_critical_healing disabled?)',
            )
          const run = await waitForRun(app, runId)
          const totalMs = performance.now() - t0
          const steps = await app.store.listStepAttempts(runId)
          const decision = await app.mesh.routingDecision(ack.seq)
          const emitted = (
            await app.mesh.recentEvents({ type: 'healing.escalation_requested', limit: 20 })
          ).find((e) => e.event.causedbyrun === runId)
          const call = steps.find(
            (s) =>
              s.status === 'succeeded' &&
              (s.input as { target?: string } | undefined)?.target?.startsWith('avn_core.'),
          )
          if (opts.json)
            return printJson({
              event: { id, ...SCENARIO },
              ack,
              ackMs,
              totalMs,
              run,
              steps,
              decision,
              emitted: emitted?.event,
            })

          const n = (i: number, title: string): void => print(`\n${paint('bold', `Step ${i}`)}: ${title}`)
          print(paint('cyan', `homeostat demo — "component quality drops below 50%" through ${base}`))
          n(1, 'TestQualityMonitor detects critical status')
          print(`  component_score = ${SCENARIO.data.score}  (below the 50% threshold) → status CRITICAL`)
          n(2, 'publish the event to the bus')
          print(`  POST ${base}/events  type ${SCENARIO.type}  id ${id}`)
          print(
            `  → ${response.status} ${ack.status} after ${duration(ackMs)} (stored durably before the answer), event #${ack.seq}`,
          )
          n(3, 'the router finds the matching workflow')
          for (const m of (decision?.matched ?? []) as Array<{ workflowId: string; triggerIndex: number }>) {
            const trigger = registry.get(m.workflowId)?.doc.triggers?.[m.triggerIndex]
            print(
              `  workflow ${paint('bold', m.workflowId)}; trigger ${trigger?.event as string}; filter ${JSON.stringify(trigger?.filter)}`,
            )
          }
          const skipped = (decision?.skipped ?? []) as Array<{ workflowId: string; reason: string }>
          if (skipped.length > 0)
            print(`  not started: ${skipped.map((s) => `${s.workflowId} (${s.reason})`).join(', ')}`)
          n(4, 'the engine executes the action')
          const input = call?.input as { target?: string; args?: unknown; timeout?: unknown } | undefined
          print(`  target ${input?.target}; parameters from the event: ${JSON.stringify(input?.args)}`)
          print(
            `  timeout ${JSON.stringify(input?.timeout ?? registry.get('test_quality_critical_healing')?.doc.steps[0]?.timeout ?? '-')}; idempotency key ${call?.idempotencyKey}`,
          )
          n(5, 'AVN Core handles the escalation')
          print(`  → ${JSON.stringify(call?.output)} in ${duration(call?.durationMs)}`)
          n(6, 'the engine publishes the follow-up event')
          print(
            emitted
              ? `  ${emitted.event.type} (event #${emitted.seq}): ${JSON.stringify(emitted.event.data)}`
              : paint('yellow', '  no follow-up event found'),
          )
          n(7, 'the audit log records the complete trace')
          print(`  event received: ${SCENARIO.type}`)
          print(`  workflow triggered: ${run.workflowId} (run ${run.id})`)
          print(`  action executed: ${input?.target}`)
          print(
            `  result: ${run.status === 'succeeded' ? paint('green', 'SUCCESS') : paint('red', run.status.toUpperCase())}`,
          )
          print(
            `  latency: ${duration(totalMs)} from POST to run finished (run ${duration(run.durationMs)}, acknowledgement ${duration(ackMs)})`,
          )
          print(
            paint(
              'gray',
              `\n  \`homeostat ${configOption(app.config.configFile)}audit query --run ${run.id}\` shows the audit entries`,
            ),
          )
          if (run.status !== 'succeeded') throw new ExitCode(EXIT.runFailed)
        } finally {
          await own?.stop()
        }
      }),
    )
}

/** `--config <file> ` when the configuration is not the one found in the current directory anyway. */
function configOption(configFile: string | undefined): string {
  if (configFile === undefined || configFile === resolve(process.cwd(), 'homeostat.yaml')) return ''
  const shown = relative(process.cwd(), configFile)
  return `--config ${shown.startsWith('..') ? configFile : shown} `
}
