import type { Command } from 'commander'
import { withApp } from './common.ts'
import { wireEngine } from './serve-command.ts'
import { paint, print, printJson } from './output.ts'

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('run the engine without HTTP: executes queued and interrupted runs until stopped')
    .option('--once', 'exit when nothing is left to run')
    .action((cmd: { once?: boolean }) =>
      withApp(
        program,
        async (app, opts) => {
          const report = (await app.registry()).lastReport!
          const total = (await app.registry()).list().length
          const invalidFiles = new Set(report.errors.map((d) => d.file)).size
          const engine = app.newEngine()
          await wireEngine(app, engine)
          let finished = 0
          let failed = 0
          engine.onEvent((e) => {
            if (e.type === 'workflow.completed') finished++
            if (e.type === 'workflow.failed' || e.type === 'workflow.timed_out') failed++
          })
          if (!opts.json) {
            print(`${paint('cyan', 'homeostat worker')} ${engine.id}`)
            print(`  store     ${app.config.store} (durability: ${app.config.durability})`)
            print(
              `  workflows ${total} loaded from ${app.config.workflows.join(', ')}${report.changed.length ? `, ${report.changed.length} changed since the last start` : ''}${invalidFiles ? paint('red', `, ${invalidFiles} invalid file(s)`) : ''}`,
            )
          }
          let stopping: Promise<void> | undefined
          const stop = (): Promise<void> => (stopping ??= engine.stop({ graceMs: app.config.worker.graceMs }))
          const onSignal = (): void => {
            if (!opts.json) print('stopping: running steps may finish; runs resume at the next start')
            void stop()
          }
          process.once('SIGINT', onSignal)
          process.once('SIGTERM', onSignal)
          await engine.start()
          if (cmd.once) {
            await engine.whenIdle()
            await stop()
          } else {
            await new Promise<void>((resolve) => {
              const check = setInterval(() => {
                if (stopping) {
                  clearInterval(check)
                  void stopping.then(resolve)
                }
              }, 100)
            })
          }
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          if (opts.json) printJson({ worker: engine.id, succeeded: finished, failed })
          else print(`worker stopped: ${finished} run(s) succeeded, ${failed} failed`)
        },
        { auditThread: true },
      )(),
    )

  program
    .command('migrate')
    .description('create or upgrade the store schema')
    .action(
      withApp(program, async (app, opts) => {
        // openApp already migrated; report the state
        const result = await app.store.migrate()
        if (opts.json) printJson({ store: app.config.store, version: result.version })
        else print(`store ${app.config.store} is at schema version ${result.version}`)
      }),
    )
}
