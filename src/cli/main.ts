import { Command, CommanderError } from 'commander'
import { ERROR_CODES, HsError } from '../core/errors.ts'
import { collect, EXIT, ExitCode } from './common.ts'
import { paint } from './output.ts'
import { registerActionsCommands } from './actions-commands.ts'
import { registerAuditCommands } from './audit-commands.ts'
import { registerChatCommands } from './chat-commands.ts'
import { registerDemoCommand } from './demo-command.ts'
import { registerMeshCommands } from './mesh-commands.ts'
import { registerRunCommands } from './run-commands.ts'
import { registerSecretsCommands } from './secrets-commands.ts'
import { installOutputRedaction } from './redact-output.ts'
import { registerServeCommand } from './serve-command.ts'
import { registerWorkerCommands } from './worker-commands.ts'
import { registerWorkflowCommands } from './workflow-commands.ts'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('homeostat')
    .description('Event-driven workflow orchestrator with self-healing built in')
    .option(
      '--config <file>',
      'configuration file (default: ./homeostat.yaml if present; env HOMEOSTAT_CONFIG)',
    )
    .option('--store <path>', 'SQLite store file (env HOMEOSTAT_STORE)')
    .option('--workflows <dir>', 'workflow directory, repeatable (env HOMEOSTAT_WORKFLOWS)', collect)
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride()
  registerWorkflowCommands(program)
  registerRunCommands(program)
  registerWorkerCommands(program)
  registerServeCommand(program)
  registerMeshCommands(program)
  registerDemoCommand(program)
  registerAuditCommands(program)
  registerActionsCommands(program)
  registerChatCommands(program)
  registerSecretsCommands(program)
  return program
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return EXIT.ok
  } catch (err) {
    if (err instanceof ExitCode) return err.code
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput
    }
    if (err instanceof HsError) {
      const json = argv.includes('--json')
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ error: { code: err.code, message: err.message, details: err.details } }, null, 2)}\n`,
        )
      } else {
        process.stderr.write(
          `${paint('red', 'error')}: ${err.message}\n  ${paint('gray', `[${err.code}] ${ERROR_CODES[err.code].fix}`)}\n`,
        )
      }
      return err.code === 'HS_ERR_STORE_SCHEMA' ? EXIT.runFailed : EXIT.badInput
    }
    process.stderr.write(`${paint('red', 'unexpected error')}: ${(err as Error).stack ?? String(err)}\n`)
    return EXIT.runFailed
  }
}

// everything this process prints passes the open apps' secret redaction
installOutputRedaction()
// a reader that stops early (`homeostat events list --json | head`) is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok)
  throw err
})
process.exitCode = await main(process.argv)
