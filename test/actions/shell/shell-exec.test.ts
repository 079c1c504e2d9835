import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_ACTION_SERVICES, type ActionServices } from '../../../src/actions/action-services.ts'
import { shellActions } from '../../../src/actions/shell-actions.ts'
import type { ActionDefinition } from '../../../src/core/action.ts'
import { actionContext, runAction } from '../../helpers/action-context.ts'
import { tempDir } from '../../helpers/tmp.ts'

type Exec = {
  exitCode: number | null
  signal: string | null
  stdout: string
  stderr: string
  stdoutTruncated: boolean
  stderrTruncated: boolean
  durationMs: number
  cwd: string
}
type Failure = Error & { code?: string }

const base = tempDir('homeostat-shell-')
const root = join(base, 'root')
mkdirSync(join(root, 'work'), { recursive: true })

function shell(
  overrides: Partial<ActionServices['shell']> = {},
  env: Record<string, string | undefined> = {},
): ActionDefinition {
  return shellActions({
    ...DEFAULT_ACTION_SERVICES,
    files: { roots: [root], maxBytes: 1024 * 1024 },
    shell: { ...DEFAULT_ACTION_SERVICES.shell, ...overrides },
    env: { PATH: process.env.PATH, HOME: root, SECRET_TOKEN: 'canary-7f3a', LANG: 'C.UTF-8', ...env },
  })[0]!
}
const exec = shell()
const node = process.execPath

const run = async (params: Record<string, unknown>, action = exec, signal?: AbortSignal): Promise<Exec> =>
  (await runAction(action, params, actionContext({ signal }))) as Exec

/** Processes whose command line contains `marker` (from /proc), to prove a stopped command is gone. */
function processesWith(marker: string): number[] {
  const found: number[] = []
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) found.push(Number(pid))
    } catch {
      // exited meanwhile
    }
  }
  return found
}

test('runs in the first root by default and reports exit code, output and duration', async () => {
  const out = await run({ command: 'pwd' })
  assert.equal(out.stdout.trim(), root)
  assert.equal(out.cwd, root)
  assert.deepEqual(
    [out.exitCode, out.signal, out.stdoutTruncated, out.stderrTruncated],
    [0, null, false, false],
  )
  assert.equal(typeof out.durationMs, 'number')
  assert.equal((await run({ command: 'pwd', cwd: 'work' })).stdout.trim(), join(root, 'work'))
})

test('the environment holds only allow-listed variables plus the step env', async () => {
  const action = shell({ env: ['PATH', 'LANG'] })
  const out = await run({ command: 'env', env: { GREETING: 'hi there' } }, action)
  const names = out.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('=')[0] ?? '')
    .sort((a, b) => a.localeCompare(b))
  assert.deepEqual(names, ['GREETING', 'LANG', 'PATH'])
  assert.ok(!out.stdout.includes('canary-7f3a'))
  assert.match(out.stdout, /^GREETING=hi there$/m)
  const defaults = await run({ command: 'env' })
  assert.ok(!defaults.stdout.includes('SECRET_TOKEN'), 'a variable not in shell.env reached the command')
})

test('without PATH in the allow-list a bare name is not found, an absolute path still runs', async () => {
  const action = shell({ env: [] })
  await assert.rejects(run({ command: 'printf', args: ['x'] }, action), (err: Failure) => {
    assert.equal(err.code, 'HS_ERR_COMMAND_NOT_FOUND')
    assert.match(err.message, /PATH=\(not set\)/)
    return true
  })
  assert.equal((await run({ command: '/usr/bin/printf', args: ['x'] }, action)).stdout, 'x')
})

test('stdin is fed to the program and closed', async () => {
  const out = await run({ command: 'cat', stdin: 'line one\nline two\n' })
  assert.equal(out.stdout, 'line one\nline two\n')
  assert.equal((await run({ command: 'cat' })).stdout, '', 'without stdin the program reads an empty input')
})

test('a non-zero exit fails the step with the code and the end of stderr', async () => {
  await assert.rejects(
    run({ command: node, args: ['-e', 'console.error("first line\\nboom: disk full"); process.exit(3)'] }),
    (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_COMMAND_FAILED')
      assert.equal(err.name, 'NonRetryableError')
      assert.match(err.message, /exited with code 3/)
      assert.match(err.message, /boom: disk full/)
      assert.ok(err.message.includes(root))
      return true
    },
  )
})

test('ok_exit_codes and allow_failure turn a non-zero exit into success carrying the code', async () => {
  const grep = await run({ command: 'grep', args: ['nothing-like-this', '/dev/null'], ok_exit_codes: [1] })
  assert.equal(grep.exitCode, 1)
  const allowed = await run({
    command: 'sh',
    args: ['-c', 'echo out; echo err >&2; exit 7'],
    allow_failure: true,
  })
  assert.deepEqual([allowed.exitCode, allowed.stdout, allowed.stderr], [7, 'out\n', 'err\n'])
  await assert.rejects(
    run({ command: 'sh', args: ['-c', 'exit 2'], ok_exit_codes: [1] }),
    /exited with code 2/,
  )
})

test('a program killed by a signal fails the step naming the signal', async () => {
  await assert.rejects(run({ command: 'sh', args: ['-c', 'kill -SEGV $$'] }), (err: Failure) => {
    assert.equal(err.code, 'HS_ERR_COMMAND_FAILED')
    assert.match(err.message, /was killed by SIGSEGV/)
    return true
  })
  const allowed = await run({ command: 'sh', args: ['-c', 'kill -TERM $$'], allow_failure: true })
  assert.deepEqual([allowed.exitCode, allowed.signal], [null, 'SIGTERM'])
})

test('the timeout stops `sleep 30` and everything it started, and says so', async () => {
  const marker = `30.${process.pid}1`
  await assert.rejects(
    run({ command: 'sh', args: ['-c', `sleep ${marker} & sleep ${marker}`], timeout: '300ms' }),
    (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_COMMAND_TIMEOUT')
      assert.match(err.message, /stopped after the 300ms timeout \(SIGTERM\)/)
      return true
    },
  )
  assert.deepEqual(processesWith(`sleep\0${marker}`), [], 'a sleep outlived the timeout')
  const plain = `30.${process.pid}2`
  await assert.rejects(run({ command: 'sleep', args: [plain], timeout: 200 }), {
    code: 'HS_ERR_COMMAND_TIMEOUT',
  })
  assert.deepEqual(processesWith(`sleep\0${plain}`), [])
})

test('a program ignoring SIGTERM gets SIGKILL after kill_grace', async () => {
  const script =
    'process.on("SIGTERM", () => console.error("ignoring TERM")); setInterval(() => {}, 1000); console.log("up")'
  await assert.rejects(
    run({ command: node, args: ['-e', script], timeout: '500ms', kill_grace: '300ms' }),
    (err: Failure) => {
      assert.equal(err.code, 'HS_ERR_COMMAND_TIMEOUT')
      assert.match(err.message, /\(SIGKILL\)/)
      assert.match(err.message, /ignoring TERM/)
      return true
    },
  )
})

test("aborting the run's signal stops the program and rejects with the abort reason", async () => {
  const marker = `30.${process.pid}3`
  const controller = new AbortController()
  setTimeout(() => controller.abort(new Error('run cancelled by user')), 200)
  await assert.rejects(
    run({ command: 'sleep', args: [marker] }, exec, controller.signal),
    /run cancelled by user/,
  )
  assert.deepEqual(processesWith(`sleep\0${marker}`), [])
  const already = new AbortController()
  already.abort(new Error('already cancelled'))
  await assert.rejects(
    run({ command: 'sh', args: ['-c', 'touch started'] }, exec, already.signal),
    /already cancelled/,
  )
  assert.ok(!existsSync(join(root, 'started')))
})

test('output beyond shell.max_output is dropped and flagged, for stdout and stderr separately', async () => {
  const action = shell({ maxOutput: 1000 })
  const out = await run(
    {
      command: node,
      args: ['-e', 'process.stdout.write("o".repeat(5000)); process.stderr.write("e".repeat(3000))'],
    },
    action,
  )
  assert.equal(out.stdout, 'o'.repeat(1000))
  assert.equal(out.stderr, 'e'.repeat(1000))
  assert.deepEqual([out.stdoutTruncated, out.stderrTruncated], [true, true])
  const small = await run({ command: 'printf', args: ['%s', 'short'] }, action)
  assert.deepEqual([small.stdout, small.stdoutTruncated], ['short', false])
  await assert.rejects(
    run(
      { command: node, args: ['-e', 'process.stderr.write("x".repeat(5000) + "THE END"); process.exit(1)'] },
      action,
    ),
    /THE END/,
    'the error shows the real end of stderr even when the captured part was cut',
  )
})

test('NUL bytes in argv and bad env names are refused before anything runs', async () => {
  await assert.rejects(run({ command: 'printf', args: ['a\0b'] }), { code: 'HS_ERR_ACTION_PARAMS' })
  await assert.rejects(run({ command: 'env', env: { 'BAD=NAME': 'x' } }), /not a valid variable name/)
  await assert.rejects(run({ command: 'env', env: { OK: 'a\0b' } }), /without NUL/)
  await assert.rejects(run({ command: '   ' }), /command is empty/)
})

test('plan shows the exact argv, cwd and environment names, and runs nothing', async () => {
  const plan = await exec.plan!(
    { command: 'touch', args: ['planned file', '$(x)'], cwd: 'work', env: { A: '1' } } as never,
    actionContext(),
  )
  assert.equal(plan.summary, "run `touch 'planned file' '$(x)'` in work (timeout 1m0s)")
  assert.deepEqual(plan.details, {
    command: 'touch',
    args: ['planned file', '$(x)'],
    cwd: join(root, 'work'),
    env: ['A', 'HOME', 'LANG', 'PATH'],
    timeoutMs: 60_000,
    stdinBytes: 0,
  })
  assert.deepEqual(readdirSync(join(root, 'work')), [])
  await assert.rejects(Promise.resolve(exec.plan!({ command: 'ls', cwd: '../' } as never, actionContext())), {
    code: 'HS_ERR_PATH_REFUSED',
  })
})
