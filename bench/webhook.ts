/**
 * `webhook`: signed `POST /hooks/deploy` with `respond: on_completion` on a 3-step in-process
 * workflow — each answer carries the finished run's output, so the time measured is verify + store
 * the event + route + queue + claim + three steps + finish commit + answer. The server is a real
 * `homeostat serve` child process; this process signs (Standard Webhooks, a fresh webhook-id each)
 * and sends over node:http keep-alive. Sequential requests first, then concurrent ones. One JSON line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { signStandard } from '../src/triggers/webhook-signature.ts'
import { serveChild } from './serve-child.ts'

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
const ms = (n: number): number => Number(n.toFixed(2))

export async function webhookBenchmark(
  options: { sequential?: number; concurrent?: number; connections?: number } = {},
): Promise<Record<string, unknown>> {
  const sequential = options.sequential ?? 3000
  const concurrent = options.concurrent ?? 3000
  const connections = options.connections ?? 16
  const key = new Uint8Array(32).fill(7)
  const secret = `whsec_${Buffer.from(key).toString('base64')}`
  const dir = mkdtempSync(join(tmpdir(), 'homeostat-webhook-'))
  mkdirSync(join(dir, 'workflows'))
  writeFileSync(
    join(dir, 'workflows', 'deploy.yaml'),
    `id: deploy
triggers: [{ type: webhook, path: deploy, secret: "${secret}", respond: on_completion }]
steps:
  - { id: a, uses: data.set, with: { n: "{{ event.data.body.n }}" } }
  - { id: b, needs: [a], uses: data.set, with: { doubled: "{{ steps.a.output.n * 2 }}" } }
  - { id: c, needs: [b], uses: data.set, with: { done: "{{ steps.b.output.doubled }}" } }
output: "{{ steps.c.output }}"
`,
  )
  writeFileSync(
    join(dir, 'homeostat.yaml'),
    'store: data/store.db\nworkflows: [workflows]\nworker: { max_runs: 2000 }\n',
  )
  const { child, url } = await serveChild(dir)
  const { port, hostname } = new URL(url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  let id = 0
  let wrong = 0
  const post = (n: number): Promise<void> =>
    new Promise((resolvePost, reject) => {
      const body = Buffer.from(`{"n":${n}}`)
      const msgId = `msg_${++id}`
      const ts = Math.floor(Date.now() / 1000)
      const req = http.request(
        {
          host: hostname,
          port,
          path: '/hooks/deploy',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            'webhook-id': msgId,
            'webhook-timestamp': ts,
            'webhook-signature': signStandard(msgId, ts, body, key),
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (text += d))
          res.on('end', () => {
            // the answer is the run's output: proof the run finished
            if (res.statusCode !== 200 || text !== `{"done":${n * 2}}`) wrong++
            resolvePost()
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const timed = async (n: number, into: number[]): Promise<void> => {
    const t0 = performance.now()
    await post(n)
    into.push(performance.now() - t0)
  }
  const warm: number[] = []
  for (let i = 0; i < 300; i++) await timed(i, warm)
  const seq: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < sequential; i++) await timed(i, seq)
  const seqSeconds = (performance.now() - t0) / 1000
  const par: number[] = []
  let next = 0
  const t1 = performance.now()
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < concurrent) await timed(next++, par)
    }),
  )
  const parSeconds = (performance.now() - t1) / 1000
  agent.destroy()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  rmSync(dir, { recursive: true, force: true })
  return {
    benchmark: 'webhook',
    workflow: '3 data.set steps, respond: on_completion (answer = run output)',
    sequential_requests: sequential,
    sequential_p50_ms: ms(percentile(seq, 50)),
    sequential_p99_ms: ms(percentile(seq, 99)),
    sequential_per_sec: Math.round(sequential / seqSeconds),
    concurrent_requests: concurrent,
    connections,
    concurrent_p50_ms: ms(percentile(par, 50)),
    concurrent_p99_ms: ms(percentile(par, 99)),
    concurrent_per_sec: Math.round(concurrent / parSeconds),
    wrong_answers: wrong,
    goal_p50_ms: 5,
    cores: availableParallelism(),
  }
}

if (import.meta.filename === process.argv[1])
  process.stdout.write(`${JSON.stringify(await webhookBenchmark())}\n`)
