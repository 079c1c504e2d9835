import { readFileSync } from 'node:fs'
import { parseWorkflowSource, formatDiagnostic } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'
const actions = testActions()
for (const f of process.argv.slice(2)) {
  const text = readFileSync(f, 'utf8')
  const lines = text.split('\n')
  const { diagnostics, workflows } = parseWorkflowSource(text, f.split('/').pop()!, actions)
  console.log(`=== ${f} (${workflows.length} ok)`)
  for (const l of lines) if (l.startsWith('# expect:')) console.log('   ' + l.slice(0, 200))
  for (const d of diagnostics) {
    console.log('  ' + formatDiagnostic(d).slice(0, 300))
    const src = lines[d.line - 1]
    if (src !== undefined && src.length < 200) console.log('     | ' + src + '\n     | ' + ' '.repeat(Math.max(0, d.column - 1)) + '^')
  }
}
