import assert from 'node:assert/strict'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { buildApp } from '../../src/api/server.ts'
import { openApp } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'

function project(): string {
  const dir = tempDir('homeostat-secrets-cli-')
  mkdirSync(join(dir, 'workflows'))
  writeFileSync(join(dir, 'homeostat.yaml'), 'store: data/store.db\nworkflows: [workflows]\n')
  writeFileSync(
    join(dir, 'workflows', 'uses-missing.yaml'),
    `id: uses_missing
steps:
  - id: call
    uses: log
    with: { message: "key {{ secrets.MISSING_KEY }}" }
`,
  )
  return dir
}

async function stored(dir: string, name: string): Promise<string | undefined> {
  const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
  try {
    return app.secrets.get(name)
  } finally {
    await app.close()
  }
}

test(
  'secrets set from stdin, a file or --value; list and rm; values never printed',
  { timeout: 120_000 },
  async () => {
    const dir = project()
    const piped = await runCli(['secrets', 'set', 'FROM_STDIN', '--json'], dir, {}, 'piped value 1\n')
    assert.equal(piped.code, 0, piped.stderr)
    assert.deepEqual(Object.keys(JSON.parse(piped.stdout) as object).sort(), ['created', 'name', 'updatedAt'])
    assert.equal((JSON.parse(piped.stdout) as { created: boolean }).created, true)
    assert.equal(statSync(join(dir, 'data', 'secrets.key')).mode & 0o777, 0o600)

    writeFileSync(join(dir, 'value.txt'), 'line one\nline two\n')
    const fromFile = await runCli(['secrets', 'set', 'FROM_FILE', '--from-file', 'value.txt'], dir)
    assert.equal(fromFile.code, 0, fromFile.stderr)
    assert.match(fromFile.stdout, /secret FROM_FILE stored \(encrypted\)/)

    const flag = await runCli(['secrets', 'set', 'FROM_FLAG', '--value', 'flag-value-1'], dir)
    assert.equal(flag.code, 0, flag.stderr)
    assert.match(flag.stderr, /warning: --value leaves the secret in your shell history/)
    const again = await runCli(['secrets', 'set', 'FROM_FLAG', '--value', 'flag-value-2'], dir)
    assert.match(again.stdout, /secret FROM_FLAG updated/)

    // one final newline is not part of the value; the rest is kept exactly
    assert.equal(await stored(dir, 'FROM_STDIN'), 'piped value 1')
    assert.equal(await stored(dir, 'FROM_FILE'), 'line one\nline two')
    assert.equal(await stored(dir, 'FROM_FLAG'), 'flag-value-2')

    const list = await runCli(['secrets', 'list'], dir)
    assert.match(list.stdout, /^NAME\s+CREATED\s+UPDATED$/m)
    assert.match(list.stdout, /^FROM_FILE\s+\d{4}-/m)
    const json = await runCli(['secrets', 'list', '--json'], dir)
    const names = (JSON.parse(json.stdout) as Array<{ name: string }>).map((s) => s.name)
    assert.deepEqual(names, ['FROM_FILE', 'FROM_FLAG', 'FROM_STDIN'])
    for (const out of [piped, fromFile, flag, again, list, json])
      for (const value of ['piped value 1', 'line one', 'flag-value-1', 'flag-value-2'])
        assert.equal(`${out.stdout}${out.stderr}`.includes(value), false, value)

    const audit = await runCli(['audit', 'query', '--type', 'secret.set', '--json'], dir)
    const entries = JSON.parse(audit.stdout) as Array<{ data: { name: string } }>
    assert.deepEqual(entries.map((e) => e.data.name).sort(), [
      'FROM_FILE',
      'FROM_FLAG',
      'FROM_FLAG',
      'FROM_STDIN',
    ])
    assert.equal(audit.stdout.includes('flag-value'), false)

    const rm = await runCli(['secrets', 'rm', 'FROM_FLAG', '--json'], dir)
    assert.deepEqual(JSON.parse(rm.stdout), { name: 'FROM_FLAG', removed: true })
    const rmAgain = await runCli(['secrets', 'rm', 'FROM_FLAG'], dir)
    assert.equal(rmAgain.code, 2)
    assert.match(rmAgain.stderr, /no secret `FROM_FLAG` \(stored: FROM_FILE, FROM_STDIN\)/)
    assert.match(rmAgain.stderr, /HS_ERR_SECRET_NOT_FOUND/)
  },
)

test(
  'bad input is refused with a clear message and exit 2; nothing is stored',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    const badName = await runCli(['secrets', 'set', 'bad-name', '--value', 'long enough', '--json'], dir)
    assert.equal(badName.code, 2)
    assert.equal(
      (JSON.parse(badName.stdout) as { error: { code: string } }).error.code,
      'HS_ERR_SECRET_INVALID',
    )
    const short = await runCli(['secrets', 'set', 'SHORT'], dir, {}, 'abc\n')
    assert.equal(short.code, 2)
    assert.match(short.stderr, /the value must be 4 to 65536 characters/)
    const both = await runCli(['secrets', 'set', 'BOTH', '--value', 'xxxxxx', '--from-file', 'f'], dir)
    assert.equal(both.code, 2)
    assert.match(both.stderr, /give the value one way/)
    const list = await runCli(['secrets', 'list', '--json'], dir)
    assert.deepEqual(JSON.parse(list.stdout), [])
  },
)

test(
  'a step referencing a secret that is not set fails, naming the secret',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    const run = await runCli(['run', 'uses_missing', '--wait'], dir)
    assert.equal(run.code, 1, run.stdout)
    assert.match(
      run.stdout,
      /step call: no secret `MISSING_KEY` is set \(`homeostat secrets set MISSING_KEY`\)/,
    )
  },
)

test(
  'API responses pass the redactor: a value that reached the store from outside is not answered',
  { timeout: 60_000 },
  async () => {
    const dir = project()
    const app = await openApp(resolveConfig({ config: join(dir, 'homeostat.yaml') }, {}, dir))
    try {
      app.secrets.set('LEAKY', 'outside-value-77')
      const deps = {
        store: app.store,
        mesh: app.mesh,
        registry: await app.registry(),
        runs: app.runs,
        ingest: await app.ingest(),
        stats: async () => ({}),
      }
      const redacting = await buildApp({ ...deps, redactText: (t) => app.redactor.redactText(t) })
      const plain = await buildApp(deps)
      const sent = await redacting.inject({
        method: 'POST',
        url: '/events',
        headers: { 'content-type': 'application/json' },
        payload: { type: 'leak.test', data: { echoed: 'outside-value-77' } },
      })
      assert.equal(sent.statusCode, 202, sent.body)
      const recent = await redacting.inject({ url: '/events/recent' })
      assert.equal(recent.statusCode, 200)
      assert.match(recent.body, /\[secret:LEAKY\]/)
      assert.equal(recent.body.includes('outside-value-77'), false)
      // the control: without the redactor the stored value is answered as it is
      assert.match((await plain.inject({ url: '/events/recent' })).body, /outside-value-77/)
      await redacting.close()
      await plain.close()
    } finally {
      await app.close()
    }
  },
)
