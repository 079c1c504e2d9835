/**
 * A lean closed-loop HTTP/1.1 load generator for the HTTP benchmarks, in the manner of wrk: each of
 * `connections` keep-alive sockets sends one request, reads the whole response, records the time,
 * and sends the next. Requests are written as one prebuilt buffer; of a response only the status
 * line and `content-length` are read. It costs the shared cores far less per request than
 * `node:http`'s client (which measured ~75–100 µs per request here), so the server's figure is not
 * capped by its own load generator.
 */
import net from 'node:net'

export interface LoadOptions {
  host: string
  port: number
  path: string
  connections: number
  /** Request numbers `from` … `to - 1` are sent, each exactly once, across all connections. */
  from: number
  to: number
  contentType: string
  body: (n: number) => string
  /**
   * Paced mode: request n is due at `(n - from) / ratePerSec` seconds after the start, sent by the
   * first free connection, and its latency counts from when it was due (not when it was sent), so a
   * slow answer's queueing shows (no coordinated omission, as wrk2). Unset: closed loop, each
   * connection sends again as soon as it has its answer.
   */
  ratePerSec?: number
}

export interface LoadResult {
  /** Acknowledgement time of every request answered `expectStatus`, in ms. */
  latencies: number[]
  /** When each of `latencies` was sent, in ms since the burst began (same order). */
  sentAt: number[]
  /** Count of responses per other status. */
  otherStatuses: Record<number, number>
  seconds: number
  /** CPU time this process spent, in µs (the generator's own cost). */
  cpuUs: number
}

/** Runs the burst (closed loop, or paced with `ratePerSec`); resolves when every request has been answered (rejects on a socket error). */
export async function closedLoop(options: LoadOptions, expectStatus = 202): Promise<LoadResult> {
  const latencies: number[] = []
  const sentTimes: number[] = []
  const otherStatuses: Record<number, number> = {}
  let next = options.from
  const head = `POST ${options.path} HTTP/1.1\r\nhost: ${options.host}:${options.port}\r\ncontent-type: ${options.contentType}\r\ncontent-length: `
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const connection = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, noDelay: true })
      let pending: Buffer = Buffer.alloc(0)
      let sentAt = 0
      const write = (n: number, dueAt: number): void => {
        const body = options.body(n)
        sentAt = dueAt
        socket.write(`${head}${Buffer.byteLength(body)}\r\n\r\n${body}`)
      }
      const sendNext = (): void => {
        const n = next++
        if (n >= options.to) {
          socket.end()
          resolve()
          return
        }
        if (options.ratePerSec === undefined) return write(n, performance.now())
        const dueAt = t0 + ((n - options.from) / options.ratePerSec) * 1000
        const wait = dueAt - performance.now()
        if (wait <= 0) write(n, dueAt)
        else setTimeout(() => write(n, dueAt), wait)
      }
      socket.on('connect', sendNext)
      socket.on('error', reject)
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return
        const headers = pending.toString('latin1', 0, end)
        if (/\r\ntransfer-encoding: *chunked/i.test(headers)) {
          reject(new Error('closedLoop reads content-length responses only, not chunked ones'))
          socket.destroy()
          return
        }
        const length = /\r\ncontent-length: *(\d+)/i.exec(headers)
        const total = end + 4 + (length ? Number(length[1]) : 0)
        if (pending.length < total) return
        const status = Number(headers.slice(9, 12))
        if (status === expectStatus) {
          latencies.push(performance.now() - sentAt)
          sentTimes.push(sentAt - t0)
        } else otherStatuses[status] = (otherStatuses[status] ?? 0) + 1
        pending = pending.subarray(total)
        sendNext()
      })
    })
  await Promise.all(Array.from({ length: options.connections }, connection))
  const cpu = process.cpuUsage(cpu0)
  return {
    latencies,
    sentAt: sentTimes,
    otherStatuses,
    seconds: (performance.now() - t0) / 1000,
    cpuUs: cpu.user + cpu.system,
  }
}
