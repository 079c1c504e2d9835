import { closedLoop } from './http-load.ts'
const port = Number(process.argv[2])
const mk = (from: number, to: number) =>
  closedLoop({
    host: '127.0.0.1',
    port,
    path: '/events',
    connections: 50,
    from,
    to,
    contentType: 'application/cloudevents+json',
    body: (n) =>
      `{"specversion":"1.0","id":"e${n}","source":"/bench${process.argv[3]}","type":"load.tick","data":{"n":${n}}}`,
  })
await mk(0, 2000)
const r = await mk(2000, 32000)
const s = [...r.latencies].sort((a, b) => a - b)
console.log(
  JSON.stringify({
    rate: Math.round(r.latencies.length / r.seconds),
    p50: s[Math.floor(s.length * 0.5)],
    p99: s[Math.floor(s.length * 0.99)],
  }),
)
