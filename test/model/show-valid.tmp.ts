import { readFileSync } from 'node:fs'
import { parseWorkflowSource, formatDiagnostic, toCanonicalYaml } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'
const actions = testActions()
for (const f of process.argv.slice(2)) {
  const { diagnostics, workflows } = parseWorkflowSource(readFileSync(f, 'utf8'), f, actions)
  console.log(`=== ${f}`)
  for (const d of diagnostics) console.log('  ' + formatDiagnostic(d))
  for (const w of workflows) console.log(toCanonicalYaml(w))
}
