import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { ActionRegistry } from '../../src/core/action.ts'
import { formatDiagnostic, parseWorkflowSource } from '../../src/core/workflow-source.ts'
import { loadPlugins } from '../../src/plugins/plugin-loader.ts'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/tmp.ts'
import { pause, runsOf, serveProject, settledRuns, triggerProject, waitFor } from './trigger-project.ts'

const PLUGIN = resolve(import.meta.dirname, 'fixtures', 'interval-plugin.ts')

const workflow = (trigger: string): string => `id: pulse
triggers:
  - ${trigger}
steps:
  - id: a
    uses: data.set
    with: { message: "{{ trigger.message }}", count: "{{ trigger.count }}" }
`

async function withPlugin(): Promise<ActionRegistry> {
  const actions = new ActionRegistry().register({
    type: 'data.set',
    description: 'test',
    params: { type: 'object' },
    sideEffects: false,
    execute: (p: unknown) => p,
  })
  await loadPlugins([PLUGIN], import.meta.dirname, actions)
  return actions
}

function problems(text: string, actions: ActionRegistry): string[] {
  return parseWorkflowSource(text, 'w.yaml', actions).diagnostics.map(formatDiagnostic)
}

test('the validator accepts a plugin trigger type and checks its fields', async () => {
  const actions = await withPlugin()
  assert.deepEqual(problems(workflow('{ type: interval, id: fast, every: 50, message: hi }'), actions), [])
  const wrong = problems(workflow('{ type: interval, evry: 50, every: 5, message: 7 }'), actions)
  assert.equal(wrong.length, 3, wrong.join('\n'))
  assert.match(
    wrong.join('\n'),
    /unknown key `evry` in trigger 1 \(`interval`\); did you mean `every`\? Allowed keys: type, id, enabled, description, every, message, log/,
  )
  assert.match(wrong.join('\n'), /trigger 1 \(`interval`\): `every` must be at least 10 \(got 5\)/)
  assert.match(wrong.join('\n'), /trigger 1 \(`interval`\): `message` must be a string \(got number 7\)/)
  assert.match(
    problems(workflow('{ type: interval }'), actions).join('\n'),
    /trigger 1 \(`interval`\) needs `every`/,
  )
  // a typo'd type lists the plugin types among the known ones
  assert.match(
    problems(workflow('{ type: intervall, every: 50 }'), actions).join('\n'),
    /unknown trigger type `intervall`.*did you mean `interval`.*Known types: manual, event, schedule.*interval/,
  )
  // without the plugin, the type is unknown
  const bare = new ActionRegistry().register({
    type: 'data.set',
    description: 't',
    params: { type: 'object' },
    sideEffects: false,
    execute: (p: unknown) => p,
  })
  assert.match(
    problems(workflow('{ type: interval, every: 50 }'), bare).join('\n'),
    /unknown trigger type `interval`/,
  )
})

test('trigger ids are unique (an id-less trigger is known by its index) and cron patterns must parse', async () => {
  const actions = await withPlugin()
  const text = `id: w
triggers:
  - { type: schedule, cron: '61 * * * *' }
  - { type: interval, id: '0', every: 50 }
  - { type: interval, id: a, every: 50 }
  - { type: schedule, id: a, cron: '0 9 * * *' }
steps: [{ id: s, uses: data.set }]
`
  const found = problems(text, actions).join('\n')
  assert.match(
    found,
    /w\.yaml:3:.*trigger 1 \(`schedule`\): `cron` `61 \* \* \* \*` is not a valid cron pattern: Invalid value for minute: 61/,
  )
  assert.match(found, /w\.yaml:4:.*trigger 2 \(`interval`\): it is known as `0`, like trigger 1/)
  assert.match(found, /w\.yaml:6:.*trigger 4 \(`schedule`\): it is known as `a`, like trigger 3/)
})

test('a plugin trigger type that breaks the rules stops start-up, naming the plugin', async () => {
  const dir = tempDir('homeostat-bad-plugin-')
  const cases: Array<[string, RegExp]> = [
    [
      `{ type: 'schedule', description: 'x', fields: {}, start: () => () => {} }`,
      /trigger type `schedule` is built in/,
    ],
    [`{ type: 'Bad-Name', description: 'x', fields: {}, start: () => () => {} }`, /is not a valid name/],
    [
      `{ type: 'ok', description: 'x', fields: { id: { type: 'string' } }, start: () => () => {} }`,
      /field `id` is common to every trigger/,
    ],
    [
      `{ type: 'ok', description: 'x', fields: {}, required: ['topic'], start: () => () => {} }`,
      /required field `topic` is not in `fields`/,
    ],
    [`{ type: 'ok', description: 'x', fields: {} }`, /has no start\(trigger, target, ctx\) function/],
  ]
  for (const [i, [definition, message]] of cases.entries()) {
    const file = join(dir, `p${i}.mjs`)
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, `export default { name: 'bad${i}', triggers: [${definition}] }\n`)
    await assert.rejects(loadPlugins([file], dir, new ActionRegistry()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HS_ERR_PLUGIN_INVALID')
      assert.match(err.message, new RegExp(`^plugin bad${i}: `))
      assert.match(err.message, message)
      return true
    })
  }
})

test(
  'a plugin trigger end to end: its events start runs carrying its data; disabling it stops the source',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({}, `plugins: ['${PLUGIN}']`)
    const log = join(project.dir, 'lifecycle.log')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      join(project.workflows, 'pulse.yaml'),
      workflow(`{ type: interval, id: beat, every: 100, message: hello, log: '${log}' }`),
    )
    // `homeostat validate` knows the plugin's trigger type
    const validated = await runCli(['validate', '--config', project.config], project.dir)
    assert.equal(validated.code, 0, validated.stdout + validated.stderr)
    const { app, server } = await serveProject(project)
    try {
      const runs = await settledRuns(app, 'pulse', 2)
      assert.deepEqual(runs[0]!.output, { message: 'hello', count: 1 })
      assert.equal(runs[0]!.trigger.eventType, 'trigger.interval')
      assert.equal(runs[0]!.trigger.triggerType, 'interval')
      assert.equal(runs[0]!.trigger.triggerId, 'beat')
      assert.equal(runs[0]!.trigger.sentBy, 'interval', 'data fields arrive in camelCase')
      assert.equal(runs[0]!.trigger.source, 'homeostat://triggers/pulse/beat')
      await (await app.registry()).setEnabled('pulse', false, 'test')
      await server.triggers.settled()
      const count = (await runsOf(app, 'pulse')).length
      await pause(400)
      assert.ok((await runsOf(app, 'pulse')).length <= count + 1, 'at most one event was in flight')
      const settled = (await runsOf(app, 'pulse')).length
      await pause(300)
      assert.equal((await runsOf(app, 'pulse')).length, settled, 'no more events after the trigger stopped')
      await (await app.registry()).setEnabled('pulse', true, 'test')
      await server.triggers.settled()
      await waitFor(
        async () => ((await runsOf(app, 'pulse')).length > settled ? true : undefined),
        'runs after re-enabling',
      )
    } finally {
      await server.stop()
    }
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
      'start pulse/beat startup=true',
      'stop changed aborted=true',
      'start pulse/beat startup=false',
      'stop shutdown aborted=true',
    ])
  },
)
