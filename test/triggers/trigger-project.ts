import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { App } from '../../src/cli/app.ts'
import { startServer, type RunningServer } from '../../src/cli/serve-command.ts'
import type { RunRecord } from '../../src/core/store-port.ts'
import { openProject } from '../helpers/mesh-project.ts'
import { tempDir } from '../helpers/tmp.ts'

/** A homeostat project in a temp dir: the given workflow files, a `src/` tree, and homeostat.yaml. */
export function triggerProject(
  workflows: Record<string, string>,
  extraConfig = '',
): { dir: string; config: string; workflows: string } {
  const dir = tempDir('homeostat-triggers-')
  mkdirSync(join(dir, 'workflows'))
  mkdirSync(join(dir, 'src'))
  for (const [name, text] of Object.entries(workflows)) writeFileSync(join(dir, 'workflows', name), text)
  const config = join(dir, 'homeostat.yaml')
  writeFileSync(
    config,
    `store: data/store.db
workflows: [workflows]
worker: { poll: 50ms, grace: 1s }
log_level: error
${extraConfig}`,
  )
  return { dir, config, workflows: join(dir, 'workflows') }
}

/** Opens the project and starts a real server on 127.0.0.1 (no hot reload unless asked). */
export async function serveProject(
  project: { dir: string; config: string },
  options: { watch?: boolean } = {},
): Promise<{ app: App; server: RunningServer }> {
  const app = await openProject(project.config, project.dir)
  const server = await startServer(app, { host: '127.0.0.1', port: 0, watch: options.watch ?? false })
  return { app, server }
}

/** Polls until `check` holds; fails naming `what` after `ms`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** The runs of a workflow, oldest first. */
export async function runsOf(app: App, workflowId: string): Promise<RunRecord[]> {
  return (await app.store.listRuns({ workflowId, limit: 500 })).reverse()
}

/** Waits until every run of the workflow has finished, and returns them. */
export async function settledRuns(app: App, workflowId: string, count: number): Promise<RunRecord[]> {
  return waitFor(async () => {
    const runs = await runsOf(app, workflowId)
    return runs.length >= count && runs.every((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status))
      ? runs
      : undefined
  }, `${count} finished run(s) of ${workflowId}`)
}

/** Waits `ms` of real time (to show that nothing more happens). */
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
