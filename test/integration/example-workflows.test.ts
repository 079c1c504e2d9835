import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { openApp, type App } from '../../src/cli/app.ts'
import { resolveConfig } from '../../src/cli/config.ts'
import { startServer } from '../../src/cli/serve-command.ts'
import { startAnthropicServer, startOpenAiServer, type LlmServer } from '../helpers/llm-servers.ts'
import { tempDir } from '../helpers/tmp.ts'

/**
 * The source document's two example workflows (examples/workflows, unchanged) end to end: a real
 * server, a real git repository, a real file watcher, and LLM-protocol servers on 127.0.0.1 standing
 * in for the hosted models.
 */
const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples', 'workflows')

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } })

function project(llm: LlmServer, kind: 'openai' | 'anthropic'): string {
  const dir = tempDir('homeostat-examples-')
  mkdirSync(join(dir, 'workflows'))
  mkdirSync(join(dir, 'src'))
  for (const f of ['automated_code_review.yaml', 'daily_documentation_update.yaml'])
    copyFileSync(join(EXAMPLES, f), join(dir, 'workflows', f))
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    `store: .homeostat/store.db
workflows: [workflows]
timezone: Europe/Paris
files: { roots: [.] }
http: { allow: [127.0.0.1] }
ai:
  default: model
  providers:
    model: { kind: ${kind}, url: ${llm.url}, model: test-model, price: { input: 3, output: 15 } }
worker: { poll: 50ms, grace: 1s }
`,
  )
  writeFileSync(join(dir, '.gitignore'), '.homeostat/\n')
  writeFileSync(join(dir, 'README.md'), '# demo\n')
  writeFileSync(join(dir, 'src', 'existing.ts'), 'export const x = 1\n')
  git(dir, 'init', '-q', '-b', 'main')
  git(dir, 'config', 'user.name', 'Dev')
  git(dir, 'config', 'user.email', 'dev@example.com')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'feat: add the parser for retry policies')
  return dir
}

const open = (dir: string): Promise<App> => openApp(resolveConfig({}, {}, dir))

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test(
  'Automated Code Review: saving a .ts file posts an LLM review of it to chat',
  { timeout: 60_000 },
  async () => {
    const llm = await startAnthropicServer()
    llm.answerWith(() => 'Line 2 divides by zero when `n` is 0; guard it.')
    const dir = project(llm, 'anthropic')
    const app = await open(dir)
    const server = await startServer(app, { host: '127.0.0.1', port: 0 })
    try {
      // chokidar reports once it is watching; give it a moment before the save
      await new Promise((r) => setTimeout(r, 300))
      writeFileSync(
        join(dir, 'src', 'divide.ts'),
        'export function avg(total: number, n: number) {\n  return total / n\n}\n',
      )
      const messages = await until('the review in chat', async () => {
        const list = await app.chat.listMessages('code-review', {})
        return list.length > 0 ? list : undefined
      })
      assert.equal(messages.length, 1, 'one save, one review (debounced)')
      assert.match(messages[0]!.text, /^Code review for src\/divide\.ts:\n\nLine 2 divides by zero/)
      // the model was asked with the file's content
      const asked = JSON.stringify(llm.requests.at(-1)!.body)
      assert.match(asked, /Review this code for potential issues/)
      assert.match(asked, /return total \/ n/)
      const runs = await until('the review run to finish', async () => {
        const list = await app.store.listRuns({ workflowId: 'automated_code_review' })
        return list.length > 0 && list.every((r) => r.status === 'succeeded') ? list : undefined
      })
      assert.equal(runs.length, 1)
      // the run's token usage and cost are recorded and shown with it
      const shown = (await (await fetch(`${server.url}/api/executions/${runs[0]!.id}`)).json()) as {
        usage?: { totals: { calls: number; inputTokens: number; outputTokens: number; costUsd: number } }
      }
      assert.equal(shown.usage?.totals.calls, 1)
      assert.ok(shown.usage.totals.inputTokens > 10 && shown.usage.totals.outputTokens > 0)
      assert.ok(
        Math.abs(
          shown.usage.totals.costUsd -
            (shown.usage.totals.inputTokens * 3 + shown.usage.totals.outputTokens * 15) / 1e6,
        ) < 1e-9,
      )
    } finally {
      await server.stop()
      await app.close()
      await llm.close()
    }
  },
)

test(
  'Daily Documentation Update: the 09:00 tick missed while down writes README.md and commits it',
  {
    timeout: 60_000,
  },
  async () => {
    const llm = await startOpenAiServer()
    llm.answerWith(() => '# demo\n\nRetry policies are parsed from YAML (see `retry:`).\n')
    const dir = project(llm, 'openai')
    // a first start records the schedule's state, as a server that ran last week would have
    let app = await open(dir)
    let server = await startServer(app, { host: '127.0.0.1', port: 0 })
    await server.stop()
    await app.close()
    const db = new DatabaseSync(join(dir, '.homeostat', 'store.db'))
    db.prepare('UPDATE trigger_state SET last_tick = ? WHERE workflow_id = ?').run(
      Date.now() - 8 * 86_400_000,
      'daily_documentation_update',
    )
    db.close()

    app = await open(dir)
    server = await startServer(app, { host: '127.0.0.1', port: 0 })
    try {
      const run = await until('the catch-up run to finish', async () => {
        const [r] = await app.store.listRuns({ workflowId: 'daily_documentation_update' })
        return r && ['succeeded', 'failed'].includes(r.status) ? r : undefined
      })
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error))
      // the tick that fired is a weekday 09:00 in Europe/Paris
      const trigger = run.trigger as { scheduledAt?: string; late?: boolean }
      assert.equal(trigger.late, true)
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(trigger.scheduledAt!))
      assert.match(local, /^(Mon|Tue|Wed|Thu|Fri) 09:00$/)
      assert.equal(
        readFileSync(join(dir, 'README.md'), 'utf8'),
        '# demo\n\nRetry policies are parsed from YAML (see `retry:`).\n',
      )
      assert.equal(
        git(dir, 'log', '-1', '--format=%s %an <%ae>').trim(),
        'docs: automated documentation update homeostat <homeostat@localhost>',
      )
      assert.equal(git(dir, 'status', '--porcelain').trim(), '')
      // the model saw the day's commits
      assert.match(JSON.stringify(llm.requests.at(-1)!.body), /feat: add the parser for retry policies/)
    } finally {
      await server.stop()
      await app.close()
      await llm.close()
    }
  },
)
