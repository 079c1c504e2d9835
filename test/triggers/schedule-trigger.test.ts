import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileCron, formatInZone, nextFireTimes, scheduleForecast } from '../../src/core/cron-schedule.ts'
import { SqliteTriggerStore } from '../../src/store/sqlite/sqlite-trigger-store.ts'
import { scheduleTriggerSource } from '../../src/triggers/schedule-trigger.ts'
import { TriggerManager } from '../../src/triggers/trigger-manager.ts'
import { runCli } from '../helpers/cli.ts'
import { pause, runsOf, serveProject, settledRuns, triggerProject, waitFor } from './trigger-project.ts'

const TICKER = `id: ticker
triggers:
  - type: schedule
    id: every-second
    cron: '*/1 * * * * *'
steps:
  - id: note
    uses: data.set
    with:
      at: "{{ trigger.scheduledAt }}"
      late: "{{ trigger.late }}"
      kind: "{{ trigger.triggerType }}"
`

test(
  'a six-field cron fires every second on real timers; each tick is one run with its scheduled time',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({ 'ticker.yaml': TICKER })
    const { app, server } = await serveProject(project)
    let runs
    try {
      runs = await settledRuns(app, 'ticker', 3)
    } finally {
      await server.stop()
    }
    const ticks = runs.map((r) => r.trigger.scheduledAt as string)
    assert.equal(new Set(ticks).size, ticks.length, 'one run per tick')
    for (const [i, run] of runs.entries()) {
      assert.equal(run.status, 'succeeded')
      assert.match(ticks[i]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/, 'a whole second')
      assert.equal(run.trigger.triggerType, 'schedule')
      assert.equal(run.trigger.triggerId, 'every-second')
      assert.equal(run.trigger.eventType, 'schedule.tick')
      assert.equal(run.trigger.eventId, ticks[i], 'the event id is the tick time')
      assert.equal(run.trigger.source, 'homeostat://triggers/ticker/every-second')
      assert.deepEqual(run.output, { at: ticks[i], late: false, kind: 'schedule' })
    }
    const seconds = ticks.map((t) => Date.parse(t) / 1000).sort((a, b) => a - b)
    for (let i = 1; i < seconds.length; i++) assert.ok(seconds[i]! > seconds[i - 1]!)
    // stopped: no more ticks
    const count = (await runsOf(app, 'ticker')).length
    await pause(1500)
    assert.equal((await runsOf(app, 'ticker')).length, count, 'no run after the server stopped')
  },
)

const NIGHTLY = (id: string, catchUp: string): string => `id: ${id}
triggers:
  - type: schedule
    id: nightly
    cron: '0 3 * * *'
    timezone: UTC
${catchUp}
steps:
  - id: note
    uses: data.set
    with: { at: "{{ trigger.scheduledAt }}", late: "{{ trigger.late }}" }
`

const DAY = 86_400_000

/** Simulates downtime: the trigger's last handled tick is put `ago` ms in the past. */
function setLastTick(app: { store: { handle: unknown } }, workflowId: string, tick: number): void {
  const db = app.store.handle as { prepare(sql: string): { run(...a: unknown[]): unknown } }
  db.prepare(
    `INSERT INTO trigger_state (workflow_id, trigger_id, last_tick, updated_at) VALUES (?, 'nightly', ?, 0)
     ON CONFLICT (workflow_id, trigger_id) DO UPDATE SET last_tick = excluded.last_tick`,
  ).run(workflowId, tick)
}

test(
  'after downtime, catch_up: 1 fires the latest missed tick once (late); skip fires none; a restart does not repeat it',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({
      'caught.yaml': NIGHTLY('caught', '    catch_up: 1'),
      'skipped.yaml': NIGHTLY('skipped', ''),
      'explicit-skip.yaml': NIGHTLY('explicit-skip', '    catch_up: skip'),
    })
    const now = Date.now()
    const latest = compileCron('0 3 * * *', 'UTC').latest(now)!
    {
      const { app, server } = await serveProject(project)
      await server.stop()
      // the server ran once, then "was down" for two days and a half
      for (const id of ['caught', 'skipped', 'explicit-skip']) setLastTick(app, id, now - 2.5 * DAY)
    }
    const { app, server } = await serveProject(project)
    try {
      const [run] = await settledRuns(app, 'caught', 1)
      assert.equal(
        run!.trigger.scheduledAt,
        new Date(latest).toISOString(),
        'the latest missed tick, not the first',
      )
      assert.deepEqual(run!.output, { at: new Date(latest).toISOString(), late: true })
      await pause(300)
      assert.equal((await runsOf(app, 'caught')).length, 1, 'at most one missed tick')
      assert.equal((await runsOf(app, 'skipped')).length, 0, 'skip is the default')
      assert.equal((await runsOf(app, 'explicit-skip')).length, 0)
      // the state now says the ticks until the start were handled
      const state = new SqliteTriggerStore(app.store.handle)
      assert.ok((await state.lastTick('caught', 'nightly'))! >= now)
    } finally {
      await server.stop()
    }
    // a crash after publishing but before recording the tick: the retried tick is the same event
    setLastTick(app, 'caught', now - 2.5 * DAY)
    const again = await serveProject(project)
    try {
      await again.server.triggers.settled()
      await pause(300)
      const runs = await runsOf(again.app, 'caught')
      assert.equal(runs.length, 1, 'the repeated tick is deduplicated by (source, id)')
      const events = await again.app.mesh.recentEvents({ type: 'schedule.tick' })
      assert.equal(events.length, 1)
      assert.equal(events[0]!.event.id, new Date(latest).toISOString())
    } finally {
      await again.server.stop()
    }
    // a plain restart: nothing was missed
    const third = await serveProject(project)
    try {
      await third.server.triggers.settled()
      await pause(300)
      assert.equal((await runsOf(third.app, 'caught')).length, 1)
    } finally {
      await third.server.stop()
    }
  },
)

test('next fire times in time zones, across a DST change (pure, croner)', () => {
  const from = Date.parse('2026-03-27T10:00:00Z') // a Friday; Paris moves to summer time on Sunday the 29th
  const paris = nextFireTimes('0 9 * * 1-5', 'Europe/Paris', from, 3)
  assert.deepEqual(
    paris.map((t) => new Date(t).toISOString()),
    ['2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z', '2026-04-01T07:00:00.000Z'],
  )
  assert.deepEqual(
    paris.map((t) => formatInZone(t, 'Europe/Paris')),
    ['2026-03-30T09:00:00+02:00', '2026-03-31T09:00:00+02:00', '2026-04-01T09:00:00+02:00'],
  )
  // before the change, 09:00 in Paris is 08:00 UTC
  assert.equal(
    new Date(
      nextFireTimes('0 9 * * *', 'Europe/Paris', Date.parse('2026-03-26T00:00:00Z'), 1)[0]!,
    ).toISOString(),
    '2026-03-26T08:00:00.000Z',
  )
  assert.equal(
    formatInZone(nextFireTimes('30 9 * * *', 'Asia/Kolkata', from, 1)[0]!, 'Asia/Kolkata'),
    '2026-03-28T09:30:00+05:30',
  )
  assert.equal(
    formatInZone(nextFireTimes('0 9 * * *', 'America/New_York', from, 1)[0]!, 'UTC'),
    '2026-03-27T13:00:00+00:00',
  )
  assert.equal(
    new Date(nextFireTimes('@daily', 'UTC', from, 1)[0]!).toISOString(),
    '2026-03-28T00:00:00.000Z',
  )
  assert.deepEqual(
    nextFireTimes('*/15 * * * * *', 'UTC', Date.parse('2026-01-01T00:00:07Z'), 3).map((t) =>
      new Date(t).toISOString(),
    ),
    ['2026-01-01T00:00:15.000Z', '2026-01-01T00:00:30.000Z', '2026-01-01T00:00:45.000Z'],
  )
  // a trigger without `timezone` uses the configured one
  const forecast = scheduleForecast(
    {
      id: 'w',
      steps: [],
      triggers: [
        { type: 'schedule', cron: '0 9 * * 1-5' },
        { type: 'schedule', id: 'tokyo', cron: '0 9 * * *', timezone: 'Asia/Tokyo' },
        { type: 'schedule', id: 'off', cron: '0 9 * * *', enabled: false },
        { type: 'manual' },
      ],
    },
    'Europe/Paris',
    from,
    2,
  )
  assert.deepEqual(forecast, [
    {
      trigger: '0',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Paris',
      next: ['2026-03-30T09:00:00+02:00', '2026-03-31T09:00:00+02:00'],
    },
    {
      trigger: 'tokyo',
      cron: '0 9 * * *',
      timezone: 'Asia/Tokyo',
      next: ['2026-03-28T09:00:00+09:00', '2026-03-29T09:00:00+09:00'],
    },
    {
      trigger: 'off',
      cron: '0 9 * * *',
      timezone: 'Europe/Paris',
      next: [],
      problem: 'the trigger is disabled',
    },
  ])
})

test(
  '`homeostat show` and GET /api/workflows/:id list the next fire times, in the configured time zone',
  { timeout: 60_000 },
  async () => {
    const project = triggerProject(
      {
        'docs.yaml': `id: docs
triggers:
  - type: schedule
    id: weekdays
    cron: '0 9 * * 1-5'
  - type: schedule
    cron: '30 6 * * *'
    timezone: Asia/Tokyo
steps: [{ id: a, uses: data.set }]
`,
      },
      'timezone: Europe/Paris',
    )
    const expected = nextFireTimes('0 9 * * 1-5', 'Europe/Paris', Date.now(), 3).map((t) =>
      formatInZone(t, 'Europe/Paris'),
    )
    const text = await runCli(['show', 'docs', '--next', '3'], project.dir)
    assert.equal(text.code, 0, text.stderr)
    assert.ok(
      text.stdout.includes(
        `# trigger weekdays: cron \`0 9 * * 1-5\` in Europe/Paris, next: ${expected.join(', ')}`,
      ),
      text.stdout,
    )
    assert.match(
      text.stdout,
      /# trigger 1: cron `30 6 \* \* \*` in Asia\/Tokyo, next: \d{4}-\d\d-\d\dT06:30:00\+09:00, /,
    )
    for (const t of expected) assert.match(t, /T09:00:00\+0[12]:00$/)
    const json = await runCli(['show', 'docs', '--json'], project.dir)
    const shown = JSON.parse(json.stdout) as {
      schedules: Array<{ trigger: string; timezone: string; next: string[] }>
    }
    assert.deepEqual(
      shown.schedules.map((s) => [s.trigger, s.timezone, s.next.length]),
      [
        ['weekdays', 'Europe/Paris', 5],
        ['1', 'Asia/Tokyo', 5],
      ],
    )
    const { server } = await serveProject(project)
    try {
      const res = await fetch(`${server.url}/api/workflows/docs`)
      const body = (await res.json()) as { schedules: Array<{ trigger: string; next: string[] }> }
      assert.equal(body.schedules[0]!.trigger, 'weekdays')
      assert.deepEqual(body.schedules[0]!.next.slice(0, 3), expected)
    } finally {
      await server.stop()
    }
  },
)

test(
  'two trigger managers firing the same schedule (two processes) start one run per tick',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({ 'ticker.yaml': TICKER })
    const { app, server } = await serveProject(project)
    const ingest = await app.ingest()
    const published: string[] = []
    const second = new TriggerManager({
      workflows: await app.registry(),
      // the second "process" publishes through the same store; it notes the ticks it published
      publisher: {
        publish: async (event) => {
          // noted once the ingest has it: a tick still in flight when the test stops is not counted
          const result = await ingest.publish(event)
          published.push(event.id!)
          return result
        },
      },
      sources: [scheduleTriggerSource({ state: new SqliteTriggerStore(app.store.handle) })],
      timezone: 'UTC',
      baseDir: project.dir,
    })
    await second.start()
    try {
      await waitFor(async () => published.length >= 3, 'three ticks from the second manager')
    } finally {
      await second.stop()
      await server.stop()
    }
    const runs = await runsOf(app, 'ticker') // queued or finished: one run per tick
    const perTick = new Map<string, number>()
    for (const r of runs)
      perTick.set(r.trigger.scheduledAt as string, (perTick.get(r.trigger.scheduledAt as string) ?? 0) + 1)
    // both managers published each of these ticks; each started exactly one run
    for (const tick of published.slice(0, 3)) assert.equal(perTick.get(tick), 1, `tick ${tick}`)
    assert.ok([...perTick.values()].every((n) => n === 1))
  },
)
