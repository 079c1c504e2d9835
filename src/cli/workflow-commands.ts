import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { relative } from 'node:path'
import { scheduleForecast } from '../core/cron-schedule.ts'
import { HsError } from '../core/errors.ts'
import { formatDiagnostic, toCanonicalYaml } from '../core/workflow-source.ts'
import { loadWorkflows } from '../mesh/workflow-files.ts'
import { actionCatalogue } from './app.ts'
import { EXIT, ExitCode, withApp, type GlobalOptions } from './common.ts'
import { resolveConfig } from './config.ts'
import { duration, paint, print, printJson, table, time } from './output.ts'

export function registerWorkflowCommands(program: Command): void {
  program
    .command('validate [paths...]')
    .description(
      'validate workflow files (default: the configured directories); every problem at file:line:column',
    )
    .action(async (paths: string[]) => {
      const opts = program.opts<GlobalOptions>()
      const config = resolveConfig(opts, process.env, process.cwd())
      const targets = paths.length > 0 ? paths : config.workflows.filter((p) => existsSync(p))
      if (targets.length === 0)
        throw new HsError(
          'HS_ERR_USAGE',
          `nothing to validate: no paths given and none of ${config.workflows.join(', ')} exists`,
        )
      // validation reads files only: the store is not opened, so nothing stored can change
      // validation needs the actions' schemas only: nothing is called or published
      const unused = async (): Promise<never> => {
        throw new Error('not available during validation')
      }
      const actions = await actionCatalogue(config, { call: unused, describe: () => [] }, { publish: unused })
      const result = await loadWorkflows(targets, actions)
      if (opts.json) {
        printJson({
          valid: result.diagnostics.length === 0,
          files: result.files,
          workflows: [...result.workflows.keys()],
          diagnostics: result.diagnostics,
        })
      } else {
        for (const d of result.diagnostics)
          print(
            `${paint('red', '✗')} ${formatDiagnostic({ ...d, file: relative(process.cwd(), d.file) || d.file })}`,
          )
        const bad = new Set(result.diagnostics.map((d) => d.file)).size
        const summary = `${result.files.length} file(s), ${result.workflows.size} valid workflow(s)${bad > 0 ? `, ${bad} file(s) with ${result.diagnostics.length} problem(s)` : ''}`
        print(bad > 0 ? paint('red', summary) : `${paint('green', '✓')} ${summary}`)
      }
      if (result.diagnostics.length > 0) throw new ExitCode(EXIT.badInput)
    })

  program
    .command('list')
    .description('list workflows with their version, triggers and run statistics')
    .action(
      withApp(program, async (app, opts) => {
        const loaded = await app.load()
        const stored = new Map((await app.store.listWorkflows()).map((w) => [w.id, w]))
        const ids = [...new Set([...loaded.workflows.keys(), ...stored.keys()])].sort()
        const rows = []
        for (const id of ids) {
          const file = loaded.workflows.get(id)
          const s = stored.get(id)
          const latest = s ? await app.store.getWorkflowVersion(id) : undefined
          const changed = file !== undefined && latest !== undefined && latest.hash !== file.hash
          rows.push({
            id,
            name: file?.doc.name ?? s?.name ?? '',
            version: s?.latestVersion,
            changedSinceStored: changed,
            enabled: s ? s.enabled : file?.doc.enabled !== false,
            triggers: (file?.doc.triggers ?? latest?.definition.triggers ?? []).map((t) => t.type),
            file: file?.file ?? s?.sourcePath,
            stats: s?.stats ?? {
              executions: 0,
              succeeded: 0,
              failed: 0,
              averageRuntimeMs: 0,
              successRate: 0,
            },
          })
        }
        if (opts.json) return printJson(rows)
        if (rows.length === 0) return print(`no workflows in ${app.config.workflows.join(', ')}`)
        print(
          table(
            ['ID', 'NAME', 'VERSION', 'ENABLED', 'TRIGGERS', 'RUNS', 'SUCCESS', 'AVG', 'LAST RUN'],
            rows.map((r) => [
              r.id,
              r.name,
              r.version === undefined
                ? paint('gray', 'new')
                : `${r.version}${r.changedSinceStored ? paint('yellow', '*') : ''}`,
              r.enabled ? 'yes' : paint('yellow', 'no'),
              r.triggers.join(',') || '-',
              String(r.stats.executions),
              r.stats.executions > 0 ? `${Math.round(r.stats.successRate * 100)}%` : '-',
              r.stats.executions > 0 ? duration(r.stats.averageRuntimeMs) : '-',
              time(r.stats.lastRunAt),
            ]),
          ),
        )
        if (rows.some((r) => r.changedSinceStored))
          print(
            paint('gray', '* the file changed since the stored version; the next run stores a new version'),
          )
        if (loaded.diagnostics.length > 0)
          print(
            paint(
              'red',
              `${new Set(loaded.diagnostics.map((d) => d.file)).size} file(s) invalid: run \`homeostat validate\``,
            ),
          )
      }),
    )

  program
    .command('show <id>')
    .description(
      'print a workflow in canonical form, with its stored version, statistics and the next fire times of its schedules',
    )
    .option('--next <n>', 'how many fire times of each schedule trigger to list', '5')
    .action((id: string, cmd: { next: string }) =>
      withApp(program, async (app, opts) => {
        const loaded = await app.load()
        const file = loaded.workflows.get(id)
        const stored = await app.store.getWorkflowVersion(id)
        if (!file && !stored)
          throw new HsError(
            'HS_ERR_WORKFLOW_NOT_FOUND',
            `no workflow \`${id}\` (known: ${[...loaded.workflows.keys()].join(', ') || 'none'})`,
          )
        const doc = file
          ? { ...file.doc, ...(stored && stored.hash === file.hash ? { version: stored.version } : {}) }
          : stored!.definition
        const summary = (await app.store.listWorkflows()).find((w) => w.id === id)
        const count = Number(cmd.next)
        if (!Number.isInteger(count) || count < 0 || count > 1000)
          throw new HsError('HS_ERR_USAGE', `--next ${cmd.next}: give a whole number from 0 to 1000`)
        const schedules = scheduleForecast(doc, app.config.timezone, Date.now(), count)
        if (opts.json)
          return printJson({
            workflow: doc,
            file: file?.file,
            storedVersion: stored?.version,
            enabled: summary?.enabled,
            stats: summary?.stats,
            schedules,
          })
        const header = [
          `# file: ${file ? relative(process.cwd(), file.file) : '(store only)'}`,
          `# stored version: ${stored ? stored.version : 'none yet'}${file && stored && stored.hash !== file.hash ? ' (file changed since)' : ''}`,
        ]
        if (summary) {
          const s = summary.stats
          header.push(
            `# runs: ${s.executions}, success rate ${s.executions ? Math.round(s.successRate * 100) : 0}%, average ${duration(s.averageRuntimeMs)}, last run ${time(s.lastRunAt)}`,
          )
        }
        for (const s of schedules) {
          const what = `# trigger ${s.trigger}: cron \`${s.cron}\` in ${s.timezone}`
          header.push(s.problem ? `${what}: ${s.problem}` : `${what}, next: ${s.next.join(', ') || 'never'}`)
        }
        print(paint('gray', header.join('\n')))
        process.stdout.write(toCanonicalYaml(doc))
      })(),
    )
}
