import { parseWorkflowSource, formatDiagnostic } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'
const actions = testActions()
let t = Date.now()
const r = parseWorkflowSource('id: x\nsteps:\n' + Array.from({length: 1000}, (_, i) => ' '.repeat(i) + '- ').join('\n') + 'x', 'deepb.yaml', actions)
console.log(Date.now() - t, r.diagnostics.map(formatDiagnostic).map(s => s.slice(0, 150)))
t = Date.now()
const m = parseWorkflowSource(`base: &base { id: a, uses: data.set }
id: merged
steps:
  - <<: *base
  - { <<: *base, id: b, needs: [a] }
`, 'merge.yaml', actions)
console.log(Date.now() - t, m.diagnostics.map(formatDiagnostic), JSON.stringify(m.workflows))
