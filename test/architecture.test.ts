import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { test } from 'node:test'

/**
 * The layering of DESIGN.md, checked mechanically: `core` imports nothing of ours and does no I/O;
 * `store`, `mesh` and `engine` import only `core` (and themselves); adapters never import each
 * other; only the composition roots (`cli`, `api/server.ts`, `index.ts`) wire adapters together.
 */
const SRC = resolve(import.meta.dirname, '..', 'src')
const ALLOWED: Record<string, readonly string[]> = {
  core: ['core'],
  store: ['core', 'store'],
  mesh: ['core', 'mesh'],
  engine: ['core', 'engine'],
  actions: ['core', 'engine', 'actions'],
  triggers: ['core', 'engine', 'mesh', 'triggers'],
  connectors: ['core', 'engine', 'mesh', 'connectors'],
  audit: ['core', 'audit'],
  api: ['core', 'mesh', 'engine', 'api'],
  plugins: ['core', 'plugins'],
  cli: [
    'core',
    'store',
    'mesh',
    'engine',
    'actions',
    'triggers',
    'connectors',
    'audit',
    'plugins',
    'api',
    'cli',
  ],
}
const IO_MODULES =
  /^node:(fs|fs\/promises|child_process|net|http|https|http2|dgram|sqlite|worker_threads|cluster|os|vm)$/

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

test('layers import only what DESIGN.md allows', () => {
  const violations: string[] = []
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split(sep)[0]!
    const allowed = ALLOWED[layer]
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(file, '..', spec)).split(sep)[0]!
        if (allowed && !allowed.includes(target))
          violations.push(`${relative(SRC, file)} imports ${spec} (${layer} → ${target})`)
      } else if (layer === 'core' && IO_MODULES.test(spec)) {
        violations.push(`${relative(SRC, file)} imports ${spec}: core does no I/O`)
      }
    }
  }
  assert.deepEqual(violations, [])
})

test('no eval, Function constructor or vm anywhere in the sources', () => {
  const offenders = files(SRC).filter((f) =>
    /\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]|from\s+['"]node:vm['"]/.test(
      readFileSync(f, 'utf8'),
    ),
  )
  assert.deepEqual(
    offenders.map((f) => relative(SRC, f)),
    [],
  )
})

test('process.env is read only by the entry points', () => {
  const offenders = files(SRC)
    .filter((f) => !relative(SRC, f).startsWith(`cli${sep}`))
    .filter((f) => /process\.env/.test(readFileSync(f, 'utf8')))
  assert.deepEqual(
    offenders.map((f) => relative(SRC, f)),
    [],
  )
})
