import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { ERROR_CODES } from '../../src/core/errors.ts'
import { formatDiagnostic, parseWorkflowSource } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'

/**
 * The broken-workflow corpus: each file in test/fixtures/broken declares what must be reported with
 * `# expect: <code> <line>:<column> <substring of the message>` lines, and every one must be met.
 */

const dir = new URL('../fixtures/broken/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()

/** Files that cannot carry a comment without stopping to be what they test. */
const SIDE_EXPECTATIONS: Record<string, string[]> = {
  'empty-file.yaml': ['HS_ERR_WORKFLOW_INVALID 1:1 the file is empty'],
}

/** Files holding several workflows of which some are valid. */
const PARTLY_VALID: Record<string, number> = { 'duplicate-workflow-ids.yaml': 2 }

interface Expectation {
  code: string
  line: number
  column: number
  text: string
}

function expectationsOf(name: string, text: string): Expectation[] {
  const lines = [
    ...text
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => l.slice('# expect: '.length)),
    ...(SIDE_EXPECTATIONS[name] ?? []),
  ]
  return lines.map((line) => {
    const m = /^(\S+) (\d+):(\d+) (.+)$/.exec(line)
    assert.ok(m, `${name}: malformed expectation \`${line}\``)
    return { code: m[1]!, line: Number(m[2]), column: Number(m[3]), text: m[4]! }
  })
}

void test('the broken corpus has at least 35 files', () => {
  assert.ok(files.length >= 35, `only ${files.length} fixtures`)
})

const actions = testActions()

for (const name of files) {
  void test(`broken/${name}`, () => {
    const text = readFileSync(new URL(name, dir), 'utf8')
    const expectations = expectationsOf(name, text)
    assert.ok(expectations.length > 0, `${name} declares no \`# expect:\` line`)
    const { workflows, diagnostics } = parseWorkflowSource(text, name, actions)
    const shown = diagnostics.map(formatDiagnostic).join('\n  ')
    assert.ok(diagnostics.length > 0, `${name}: no diagnostic at all`)
    for (const e of expectations) {
      const hit = diagnostics.find(
        (d) => d.code === e.code && d.line === e.line && d.column === e.column && d.message.includes(e.text),
      )
      assert.ok(
        hit,
        `${name}: expected ${e.code} at ${e.line}:${e.column} containing "${e.text}"; got:\n  ${shown}`,
      )
    }
    for (const d of diagnostics) {
      assert.equal(d.file, name)
      assert.ok(d.line >= 1 && d.column >= 1, `position missing: ${formatDiagnostic(d)}`)
      assert.ok(d.pointer === '' || d.pointer.startsWith('/'), `bad pointer: ${formatDiagnostic(d)}`)
      assert.ok(d.code in ERROR_CODES, `code not in the catalogue: ${d.code}`)
    }
    assert.equal(workflows.length, PARTLY_VALID[name] ?? 0, `${name}: a workflow with problems was accepted`)
  })
}
