import { compileExpression, compileTemplate } from './index.ts'
const ctx = { inputs: { name: 'Bob', count: 5 }, vars: { greeting: 'Hello' } }
const e = compileExpression("vars.greeting + ', ' + inputs.name")
const staticT = compileTemplate({ a: 'static text', b: [1, 2, 3], c: { d: 'x' } })
const staticS = compileTemplate('just a string')
const dyn = compileTemplate({ msg: 'Hi {{ inputs.name }}, you have {{ inputs.count }} items', n: '{{ inputs.count + 1 }}' })
const cond = compileExpression('inputs.count > 3 && inputs.name == "Bob"')
function bench(name: string, fn: () => unknown, n = 1_000_000) {
  for (let i = 0; i < 100_000; i++) fn()
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  const ns = Number(process.hrtime.bigint() - t) / n
  console.log(name.padEnd(40), ns.toFixed(1), 'ns/op')
}
bench('expr greeting', () => e.evaluate(ctx))
bench('expr condition', () => cond.evaluate(ctx))
bench('static template object', () => staticT.render(ctx))
bench('static template string', () => staticS.render(ctx))
bench('dynamic template (2 strings)', () => dyn.render(ctx))
bench('compileExpression memo hit', () => compileExpression("vars.greeting + ', ' + inputs.name"))
const big = compileExpression('inputs.list.map(a, inputs.list.map(b, a + b))')
const l = Array.from({ length: 1000 }, (_, i) => i)
for (let k = 0; k < 3; k++) { const t0 = performance.now(); try { big.evaluate({ inputs: { list: l } }) } catch (err) { console.log((err as Error).message.slice(0, 60)) } console.log('nested budget fail ms', (performance.now() - t0).toFixed(1)) }
const trip = compileExpression('inputs.list.map(a, inputs.list.map(b, inputs.list.map(c, a+b+c)))')
for (let k = 0; k < 3; k++) { const t0 = performance.now(); try { trip.evaluate({ inputs: { list: l } }) } catch (err) { console.log((err as Error).message.slice(0, 60)) } console.log('triple budget fail ms', (performance.now() - t0).toFixed(1)) }
