import type { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { HsError } from '../core/errors.ts'
import { checkSecretName } from '../store/sqlite/sqlite-secret-store.ts'
import type { App } from './app.ts'
import { EXIT, ExitCode, withApp } from './common.ts'
import { paint, print, printJson, table, time } from './output.ts'

/** A value as written in a file or piped in: one trailing newline (`echo`, editors) is not part of it. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '')
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads one line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = (error?: unknown): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (error === undefined) resolve(value)
      else reject(error as Error)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish()
        if (ch === '\u0003') return finish(new ExitCode(EXIT.interrupted))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

async function valueFrom(name: string, cmd: { value?: string; fromFile?: string }): Promise<string> {
  if (cmd.value !== undefined && cmd.fromFile !== undefined)
    throw new HsError('HS_ERR_USAGE', 'give the value one way: --value, --from-file, or standard input')
  if (cmd.value !== undefined) {
    process.stderr.write(
      `${paint('yellow', 'warning')}: --value leaves the secret in your shell history and the process list; prefer standard input or --from-file\n`,
    )
    return cmd.value
  }
  if (cmd.fromFile !== undefined) {
    try {
      return withoutFinalNewline(readFileSync(cmd.fromFile, 'utf8'))
    } catch (err) {
      throw new HsError('HS_ERR_USAGE', `--from-file ${cmd.fromFile}: ${(err as Error).message}`)
    }
  }
  if (process.stdin.isTTY) return readHidden(`value of ${name} (not shown): `)
  return withoutFinalNewline(await readStdin())
}

function audit(app: App, type: string, data: Record<string, unknown>): void {
  app.auditSink.write({ type, at: Date.now(), actor: `cli:${userInfo().username}`, data })
}

/**
 * `homeostat secrets set|list|rm`: the encrypted secret store (docs/secrets-and-dry-run.md). Values
 * go in and never come out: `list` shows names and times only; workflows read them as
 * `{{ secrets.NAME }}` inside a step's `with`, and actions through their configuration.
 */
export function registerSecretsCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description(
      'encrypted secrets for workflows ({{ secrets.NAME }} in a step `with`); values are never shown',
    )

  secrets
    .command('set <name>')
    .description('store a secret: from standard input (piped, or typed hidden), --from-file or --value')
    .option('--value <value>', 'the value itself (visible in shell history: prefer stdin)')
    .option('--from-file <file>', 'read the value from a file (one final newline is dropped)')
    .action((name: string, cmd: { value?: string; fromFile?: string }) =>
      withApp(program, async (app, opts) => {
        checkSecretName(name)
        const value = await valueFrom(name, cmd)
        const { created, updatedAt } = app.secrets.set(name, value)
        audit(app, 'secret.set', { name, created })
        if (opts.json) printJson({ name, created, updatedAt })
        else print(`${paint('green', '✓')} secret ${name} ${created ? 'stored' : 'updated'} (encrypted)`)
      })(),
    )

  secrets
    .command('list')
    .description('names of the stored secrets with their times (never the values)')
    .action(
      withApp(program, async (app, opts) => {
        const list = app.secrets.list()
        if (opts.json) return printJson(list)
        if (list.length === 0) return print('no secrets (`homeostat secrets set NAME` stores one)')
        print(
          table(
            ['NAME', 'CREATED', 'UPDATED'],
            list.map((s) => [s.name, time(s.createdAt), time(s.updatedAt)]),
          ),
        )
      }),
    )

  secrets
    .command('rm <name>')
    .alias('remove')
    .description('delete a secret (steps that reference it fail from then on, naming it)')
    .action((name: string) =>
      withApp(program, async (app, opts) => {
        if (!app.secrets.remove(name))
          throw new HsError(
            'HS_ERR_SECRET_NOT_FOUND',
            `no secret \`${name}\` (stored: ${app.secrets.names().join(', ') || 'none'})`,
          )
        audit(app, 'secret.removed', { name })
        if (opts.json) printJson({ name, removed: true })
        else print(`secret ${name} removed`)
      })(),
    )
}
