import { spawn, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'

const BIN = resolve(import.meta.dirname, '..', 'bin', 'homeostat.js')

/**
 * A real `homeostat serve` child process for the HTTP benchmarks, in `dir` (its homeostat.yaml), on
 * a free port: resolves with its URL once it says it is serving.
 */
export async function serveChild(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /serving on (http:\/\/[\d.]+:\d+)/.exec(out)
      if (m) resolveUrl(m[1]!)
    })
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)))
  })
  return { child, url }
}
