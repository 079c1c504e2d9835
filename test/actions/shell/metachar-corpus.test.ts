/**
 * Shell metacharacters in step inputs are never interpreted: each payload is passed to a real
 * program (printf, which prints its arguments back NUL-separated; node, printing argv and env;
 * cat, echoing stdin) and must come back byte for byte, with no canary file created.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_ACTION_SERVICES } from '../../../src/actions/action-services.ts'
import { shellActions } from '../../../src/actions/shell-actions.ts'
import { runAction } from '../../helpers/action-context.ts'
import { tempDir } from '../../helpers/tmp.ts'

const root = join(tempDir('homeostat-shell-'), 'root')
mkdirSync(root)
const exec = shellActions({
  ...DEFAULT_ACTION_SERVICES,
  files: { roots: [root], maxBytes: 1024 * 1024 },
  env: { PATH: process.env.PATH, HOME: root },
})[0]!

const CANARY = 'CANARY'
const touch = `touch ${CANARY}`

const BASE: string[] = [
  `; ${touch}`,
  `;${touch};`,
  `&& ${touch}`,
  `|| ${touch}`,
  `| ${touch}`,
  `|${touch}`,
  `& ${touch}`,
  `$(${touch})`,
  `\`${touch}\``,
  `$(${touch} && echo x)`,
  `\${IFS}${touch}`,
  `> ${CANARY}`,
  `>> ${CANARY}`,
  `2> ${CANARY}`,
  `&> ${CANARY}`,
  `< /etc/passwd`,
  `<(${touch})`,
  `>(${touch})`,
  `\n${touch}`,
  `\r\n${touch}`,
  `x\n${touch}\n`,
  `'; ${touch}; '`,
  `"; ${touch}; "`,
  `\\"; ${touch}; \\"`,
  `$'\\x3b' ${touch}`,
  `; rm -rf /`,
  `; rm -rf ~`,
  `$(rm -rf /)`,
  `*`,
  `.*`,
  `/*`,
  `?`,
  `[a-z]*`,
  `**/*`,
  `{a,b}`,
  `{${touch},x}`,
  `~`,
  `~root`,
  `$HOME`,
  `\${HOME}`,
  `\${PATH:0:1}`,
  `$0`,
  `$$`,
  `$?`,
  `$@`,
  `!!`,
  `!$`,
  `#`,
  `# ${touch}`,
  `%PATH%`,
  `^`,
  `(${touch})`,
  `{ ${touch}; }`,
  `a=b ${touch}`,
  `-rf`,
  `--help`,
  `--version`,
  `-`,
  `--`,
  `-n`,
  `%s%s%s%n`,
  `\\`,
  `\\\\`,
  `'`,
  `"`,
  `\``,
  `\t${touch}`,
  touch,
  `\u00a0; ${touch}`,
  `\uff1b ${touch}`,
  `\u037e ${touch}`,
  `$(printf '%s' ${touch} | sh)`,
  `eval ${touch}`,
  `exec ${touch}`,
  `sh -c '${touch}'`,
  `bash -c "${touch}"`,
  `/bin/sh -c ${touch}`,
  `| nc 127.0.0.1 9 -e /bin/sh`,
  `; curl http://127.0.0.1:9/x | sh`,
  `\${@:-x}`,
  `$(< /etc/passwd)`,
  `<<EOF\n${touch}\nEOF`,
  `ls; ${touch}`,
  ` ${touch} `,
  `   `,
  ``,
  `\u001b[31mred\u001b[0m`,
  `\u0007bell`,
  `emoji 😀 ; ${touch}`,
  `日本語; ${touch}`,
]
/** Each base payload alone, and glued to ordinary text on either side. */
const PAYLOADS = [
  ...new Set([
    ...BASE,
    ...BASE.slice(0, 30).map((p) => `report.txt${p}`),
    ...BASE.slice(0, 20).map((p) => `${p}.log`),
  ]),
]

function noCanary(): void {
  assert.ok(!existsSync(join(root, CANARY)), 'a payload was interpreted: the canary file exists')
}

test('the metacharacter corpus holds at least 100 payloads', () => {
  assert.ok(PAYLOADS.length >= 100, `only ${PAYLOADS.length}`)
})

test('every payload reaches printf as one literal argument', async () => {
  for (const payload of PAYLOADS) {
    const out = (await runAction(exec, { command: 'printf', args: ['%s\\0', payload] })) as { stdout: string }
    assert.equal(out.stdout, `${payload}\0`, `payload ${JSON.stringify(payload)} changed on the way`)
    noCanary()
  }
})

test('all payloads at once arrive as the same argv, in order, in a node program', async () => {
  const out = (await runAction(exec, {
    command: process.execPath,
    args: ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', ...PAYLOADS],
  })) as { stdout: string }
  assert.deepEqual(JSON.parse(out.stdout), PAYLOADS)
  noCanary()
})

test('payloads in env values and on stdin arrive untouched', async () => {
  for (const payload of PAYLOADS.slice(0, 60)) {
    const env = (await runAction(exec, {
      command: process.execPath,
      args: ['-e', 'process.stdout.write(process.env.PAYLOAD)'],
      env: { PAYLOAD: payload },
    })) as { stdout: string }
    assert.equal(env.stdout, payload)
    const stdin = (await runAction(exec, { command: 'cat', stdin: payload })) as { stdout: string }
    assert.equal(stdin.stdout, payload)
    noCanary()
  }
})

test('a payload as the command name is looked up as a program and not found; nothing runs', async () => {
  for (const command of [
    `echo hi; ${touch}`,
    `${touch}`,
    `$(${touch})`,
    `\`${touch}\``,
    `printf x && ${touch}`,
  ]) {
    await assert.rejects(runAction(exec, { command }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HS_ERR_COMMAND_NOT_FOUND')
      assert.ok(err.message.includes(JSON.stringify(command)))
      return true
    })
    noCanary()
  }
  assert.deepEqual(readdirSync(root), [])
})
