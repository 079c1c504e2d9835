import { parseWorkflowSource, validateWorkflowDoc, formatDiagnostic } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'
const actions = testActions()
const show = (label: string, r: { diagnostics: any[] }) => { console.log(label, r.diagnostics.length); for (const d of r.diagnostics.slice(0, 3)) console.log('  ', formatDiagnostic(d).slice(0, 200)) }
let t = Date.now()
show('deep flow', parseWorkflowSource('id: x\nsteps: ' + '['.repeat(200000) + ']'.repeat(200000), 'deep.yaml', actions)); console.log(Date.now() - t, 'ms')
t = Date.now()
show('deep block', parseWorkflowSource('id: x\nsteps:\n' + Array.from({length: 2000}, (_, i) => ' '.repeat(i) + '- ').join('\n') + 'x', 'deepb.yaml', actions)); console.log(Date.now() - t, 'ms')
const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill('*' + String.fromCharCode(96 + i)).join(',')}]`)
t = Date.now()
show('bomb', parseWorkflowSource('id: x\nsteps: []\nvariables:\n  ' + bomb.join('\n  '), 'bomb.yaml', actions)); console.log(Date.now() - t, 'ms')
show('big', parseWorkflowSource('id: x\n# ' + 'x'.repeat(1024 * 1024), 'big.yaml', actions))
let deep: any = 1; for (let i = 0; i < 100000; i++) deep = { a: deep }
show('api deep', validateWorkflowDoc({ id: 'x', steps: [{ id: 'a', uses: 'data.set', with: deep }] }, actions))
const cyc: any = { id: 'x', steps: [] }; cyc.steps.push({ id: 'a', uses: 'data.set', with: { self: cyc } })
show('api cyc', validateWorkflowDoc(cyc, actions))
show('proto', parseWorkflowSource('id: x\nsteps:\n  - id: a\n    uses: data.set\n    with: { __proto__: { polluted: 1 } }\n', 'p.yaml', actions))
console.log('polluted?', ({} as any).polluted)
const r = parseWorkflowSource('id: x\nsteps:\n  - id: a\n    uses: data.set\n    with: { __proto__: { polluted: 1 } }\n', 'p.yaml', actions)
console.log(JSON.stringify(r.workflows[0]), Object.getPrototypeOf(r.workflows[0]!.steps[0]!.with) === Object.prototype)
