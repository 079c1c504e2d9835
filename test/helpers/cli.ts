import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

export const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'homeostat.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Starts the real CLI (`bin/homeostat.js`) on this Node, as a user would; `stdin` is piped in when given. */
export function startCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  stdin?: string,
): { child: ChildProcess; result: Promise<CliResult>; stdout: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  if (stdin !== undefined) child.stdin!.end(stdin)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const result = new Promise<CliResult>((resolveResult) =>
    child.on('close', (code, signal) => resolveResult({ code, signal, stdout, stderr })),
  )
  return { child, result, stdout: () => stdout }
}

export function runCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  stdin?: string,
): Promise<CliResult> {
  return startCli(args, cwd, env, stdin).result
}

/** Polls `check` until it returns true (or fails after `ms`). */
export async function until(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
