import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDiagnostic, parseWorkflowSource } from '../../src/core/workflow-source.ts'
import { testActions } from '../model/test-actions.ts'

/**
 * Where `{{ secrets.NAME }}` may appear: only inside a step's `with`. Each case is a workflow and
 * the diagnostic expected (line:column of the `secrets` identifier), or none.
 */
interface Case {
  name: string
  yaml: string
  expect?: { line: number; column: number; text: string }
}

const step = (extra: string, withBlock = '    with: { message: hi }') =>
  `id: wf
steps:
  - id: a
    uses: log
${withBlock}
${extra}`

const CASES: Case[] = [
  {
    name: 'in a step `with` (string interpolation)',
    yaml: step('', '    with: { message: "token {{ secrets.API_KEY }}" }'),
  },
  {
    name: 'in a step `with`, bracket and optional forms',
    yaml: step('', `    with: { message: '{{ secrets["API_KEY"] + secrets.?OTHER.orValue("") }}' }`),
  },
  {
    name: 'in a foreach step `with`, next to the item',
    yaml: `id: wf
steps:
  - id: a
    uses: log
    foreach: "[1, 2]"
    with: { message: "{{ string(item) + secrets.API_KEY }}" }
`,
  },
  {
    name: 'in `if`',
    yaml: step('    if: secrets.FLAG == "on"'),
    expect: { line: 6, column: 9, text: 'step `a`: `if` reads `secrets`' },
  },
  {
    name: 'in `foreach`',
    yaml: step('    foreach: secrets.LIST.split(",")'),
    expect: { line: 6, column: 14, text: '`foreach` reads `secrets`' },
  },
  {
    name: 'in a `needs` condition',
    yaml: `id: wf
steps:
  - id: a
    uses: log
    with: { message: hi }
  - id: b
    uses: log
    needs:
      - step: a
        when: "secrets.GATE == 'open'"
    with: { message: hi }
`,
    expect: { line: 10, column: 16, text: '`when` of the edge from `a` reads `secrets`' },
  },
  {
    name: 'in `output`',
    yaml: `id: wf
output:
  leaked: "{{ secrets.API_KEY }}"
steps:
  - id: a
    uses: log
    with: { message: hi }
`,
    expect: { line: 3, column: 15, text: '`output.leaked` reads `secrets`' },
  },
  {
    name: 'in `variables`',
    yaml: `id: wf
variables:
  key: "prefix-{{ secrets.API_KEY }}"
steps:
  - id: a
    uses: log
    with: { message: "{{ vars.key }}" }
`,
    expect: { line: 3, column: 19, text: '`variables.key` reads `secrets`' },
  },
  {
    name: 'in a trigger filter',
    yaml: `id: wf
triggers:
  - type: event
    event: deploy.done
    filter: data.token == secrets.DEPLOY_TOKEN
steps:
  - id: a
    uses: log
    with: { message: hi }
`,
    expect: { line: 5, column: 27, text: '`filter` reads `secrets`' },
  },
  {
    name: 'the whole map in `with`',
    yaml: step('', '    with: { message: "{{ secrets }}" }'),
    expect: { line: 5, column: 26, text: 'reference one secret by its name' },
  },
  {
    name: 'a computed name in `with`',
    yaml: step('', '    with: { message: "{{ secrets[inputs.which] }}" }'),
    expect: { line: 5, column: 26, text: 'reference one secret by its name' },
  },
  {
    name: 'a name a secret cannot have',
    yaml: step('', `    with: { message: '{{ secrets["not-a-name"] }}' }`),
    expect: { line: 5, column: 26, text: '`not-a-name` is not a secret name' },
  },
]

for (const c of CASES) {
  void test(`secrets ${c.name}: ${c.expect ? 'refused' : 'accepted'}`, () => {
    const { workflows, diagnostics } = parseWorkflowSource(c.yaml, 'wf.yaml', testActions())
    const shown = diagnostics.map(formatDiagnostic).join('\n  ')
    if (!c.expect) {
      assert.deepEqual(diagnostics, [], shown)
      assert.equal(workflows.length, 1)
      return
    }
    const hit = diagnostics.find(
      (d) =>
        d.code === 'HS_ERR_WORKFLOW_INVALID' &&
        d.line === c.expect!.line &&
        d.column === c.expect!.column &&
        d.message.includes(c.expect!.text),
    )
    assert.ok(hit, `expected ${c.expect.line}:${c.expect.column} "${c.expect.text}"; got:\n  ${shown}`)
    assert.equal(workflows.length, 0, 'a workflow reading secrets outside `with` was accepted')
  })
}
