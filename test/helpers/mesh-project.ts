import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openApp, type App } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { after } from 'node:test'
import { tempDir } from './tmp.ts'

/** Handler module for tests: records calls in memory and in a JSON-lines file next to it. */
const RECORDER = `import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
const file = join(import.meta.dirname, 'calls.jsonl')
export const calls = []
export function escalate(args, ctx) {
  calls.push(args)
  appendFileSync(file, JSON.stringify({ args, key: ctx.idempotencyKey }) + '\\n')
  return { status: 'healing_initiated', component_id: args.component_id }
}
`

/**
 * A homeostat project in a temp dir: a workflow reacting to `quality.dropped` (filter severity
 * CRITICAL) by calling a recording handler, a schema for that type, and homeostat.yaml.
 */
export function meshProject(extraConfig = ''): {
  dir: string
  config: string
  workflows: string
  handlerCalls: string
} {
  const dir = tempDir('homeostat-mesh-')
  mkdirSync(join(dir, 'workflows'))
  mkdirSync(join(dir, 'schemas'))
  mkdirSync(join(dir, 'handlers'))
  writeFileSync(join(dir, 'handlers', 'recorder.mjs'), RECORDER)
  writeFileSync(
    join(dir, 'schemas', 'events.yaml'),
    `event_types:
  quality.dropped:
    description: a component's quality fell
    data:
      type: object
      required: [component_id, score, severity]
      properties:
        component_id: { type: string }
        score: { type: number, minimum: 0, maximum: 100 }
        severity: { enum: [CRITICAL, WARNING] }
`,
  )
  writeFileSync(
    join(dir, 'workflows', 'heal.yaml'),
    `id: heal
name: Heal on critical quality
triggers:
  - type: event
    event: quality.dropped
    filter: { severity: CRITICAL }
steps:
  - id: escalate
    uses: handler.call
    with:
      target: recorder.escalate
      args:
        component_id: "{{ event.data.component_id }}"
        current_score: "{{ event.data.score }}"
  - id: note
    needs: [escalate]
    uses: data.set
    with: { status: "{{ steps.escalate.output.status }}" }
`,
  )
  const config = join(dir, 'homeostat.yaml')
  writeFileSync(
    config,
    `store: data/store.db
workflows: [workflows]
schemas: [schemas]
handlers:
  recorder: { module: ./handlers/recorder.mjs }
worker: { poll: 50ms, grace: 1s }
${extraConfig}`,
  )
  return {
    dir,
    config,
    workflows: join(dir, 'workflows'),
    handlerCalls: join(dir, 'handlers', 'calls.jsonl'),
  }
}

export async function openProject(configFile: string, cwd: string): Promise<App> {
  const app = await openApp(resolveConfig({ config: configFile }, {}, cwd))
  after(() => app.close())
  return app
}
