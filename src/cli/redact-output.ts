/**
 * The last line of defence for CLI output: once `installOutputRedaction()` ran (the CLI entry does
 * it), every string written to stdout and stderr goes through the redactors of the open apps, so no
 * command, log line or error message prints a secret's value. Binary writes pass untouched.
 */

interface TextRedactor {
  redactText(text: string): string
}

const active = new Set<TextRedactor>()
let installed = false

function redactChunk(chunk: unknown): unknown {
  if (typeof chunk !== 'string' || active.size === 0) return chunk
  let text = chunk
  for (const r of active) text = r.redactText(text)
  return text
}

function wrap(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const encoding = rest[0]
    const textual = typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8'
    return write(textual ? redactChunk(chunk) : chunk, ...rest)
  }) as typeof stream.write
}

/** Wraps `process.stdout` and `process.stderr` (once per process). */
export function installOutputRedaction(): void {
  if (installed) return
  installed = true
  wrap(process.stdout)
  wrap(process.stderr)
}

/**
 * Adds a redactor to the process output; a no-op unless `installOutputRedaction` ran (tests that
 * open apps in-process keep their output as is). It stays active until the process exits, so error
 * messages printed after a command closed its app are redacted too.
 */
export function redactProcessOutput(redactor: TextRedactor): void {
  if (installed) active.add(redactor)
}
