import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { startCli, until } from '../helpers/cli.ts'
import { meshProject } from '../helpers/mesh-project.ts'

/** Starts `homeostat serve` as a child on a free port and returns its URL. */
async function serveChild(dir: string): Promise<{ url: string; child: ReturnType<typeof startCli> }> {
  const child = startCli(['serve', '--port', '0'], dir)
  await until(
    () => /serving on http:\/\/127\.0\.0\.1:\d+/.test(child.stdout()),
    20_000,
    'the server to listen',
  )
  const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(child.stdout())![1]!
  return { url, child }
}

test(
  'kill -9 of the server mid-burst: every 202-acknowledged event is stored and routed after restart',
  { timeout: 90_000 },
  async () => {
    const project = meshProject()
    const first = await serveChild(project.dir)
    const acknowledged = new Set<string>()
    let sent = 0
    const sender = async (worker: number): Promise<void> => {
      for (let i = 0; i < 2000; i++) {
        const id = `burst-${worker}-${i}`
        sent++
        try {
          const res = await fetch(`${first.url}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents+json' },
            body: JSON.stringify({
              specversion: '1.0',
              id,
              source: '/burst',
              type: 'quality.dropped',
              data: { component_id: id, score: 10, severity: 'CRITICAL' },
            }),
          })
          if (res.status === 202) acknowledged.add(id)
          await res.arrayBuffer()
        } catch {
          return // the server died: connection refused or reset (each sender ends so)
        }
      }
    }
    const senders = Array.from({ length: 20 }, (_, w) => sender(w))
    await until(() => acknowledged.size >= 300, 30_000, '300 acknowledged events')
    first.child.child.kill('SIGKILL')
    await Promise.all(senders)
    await first.child.result
    assert.ok(sent > acknowledged.size, 'some requests were in flight or refused when the server died')

    const second = await serveChild(project.dir)
    try {
      const db = new DatabaseSync(join(project.dir, 'data', 'store.db'), { readOnly: true })
      const stored = new Set(
        (db.prepare("SELECT id FROM events WHERE source = '/burst'").all() as Array<{ id: string }>).map(
          (r) => r.id,
        ),
      )
      for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged event ${id} was lost`)
      const unrouted = db
        .prepare("SELECT COUNT(*) AS n FROM events WHERE source = '/burst' AND routed_at IS NULL")
        .get() as { n: number }
      assert.equal(unrouted.n, 0, 'every stored event was routed')
      const runs = db
        .prepare(
          "SELECT COUNT(*) AS n FROM workflow_executions WHERE json_extract(trigger, '$.source') = '/burst'",
        )
        .get() as { n: number }
      assert.equal(runs.n, stored.size, 'one run per stored event')
      db.close()
    } finally {
      second.child.child.kill('SIGTERM')
      await second.child.result
    }
  },
)
