/** One server-sent event as a client sees it. */
export interface SseEvent {
  id?: string
  event?: string
  data: string
}

/**
 * Reads a `text/event-stream` response with fetch, as a browser's EventSource would: frames end with
 * a blank line, `:` lines are comments. `next(predicate)` resolves with the first event (from the
 * start of the stream) that matches; `close()` aborts the request.
 */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number
  contentType: string | null
  events: SseEvent[]
  next(match: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>
  close(): void
}> {
  const controller = new AbortController()
  const response = await fetch(url, { headers, signal: controller.signal })
  const events: SseEvent[] = []
  const waiters = new Set<() => void>()
  let ended = false
  if (response.body) {
    void (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true })
          let end: number
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const event: SseEvent = { data: '' }
            let hasData = false
            for (const line of frame.split('\n')) {
              if (line.startsWith(':')) continue
              const colon = line.indexOf(':')
              const field = colon < 0 ? line : line.slice(0, colon)
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
              if (field === 'data') {
                event.data = hasData ? `${event.data}\n${value}` : value
                hasData = true
              } else if (field === 'id') event.id = value
              else if (field === 'event') event.event = value
            }
            if (hasData) events.push(event)
          }
          for (const w of waiters) w()
        }
      } catch {
        // aborted by close()
      } finally {
        ended = true
        for (const w of waiters) w()
      }
    })()
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    next(match, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = events.find(match)
          if (hit) {
            cleanup()
            resolve(hit)
          } else if (ended) {
            cleanup()
            reject(new Error(`stream ended without a matching event; got ${JSON.stringify(events)}`))
          }
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no matching event in ${ms}ms; got ${JSON.stringify(events)}`))
        }, ms)
        const cleanup = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    close: () => controller.abort(),
  }
}
