import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { DEFAULT_ACTION_SERVICES } from '../../../src/actions/action-services.ts'
import { fileActions } from '../../../src/actions/file-actions.ts'
import { gitActions } from '../../../src/actions/git-actions.ts'
import { shellActions } from '../../../src/actions/shell-actions.ts'
import { newAjv } from '../../../src/core/ajv-messages.ts'

const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/actions-files-shell-git.md'), 'utf8')
const ACTIONS = [
  ...fileActions(DEFAULT_ACTION_SERVICES),
  ...shellActions(DEFAULT_ACTION_SERVICES),
  ...gitActions(DEFAULT_ACTION_SERVICES),
]

/** Every `- id: … uses: …` step written in the document's YAML blocks. */
function exampleSteps(): { uses: string; with?: Record<string, unknown> }[] {
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1]!) as unknown)
  return blocks.filter(Array.isArray).flat() as { uses: string; with?: Record<string, unknown> }[]
}

test('docs/actions-files-shell-git.md shows every file, shell and git action in a YAML step', () => {
  const used = new Set(exampleSteps().map((s) => s.uses))
  for (const action of ACTIONS) assert.ok(used.has(action.type), `no YAML example for ${action.type}`)
})

test("every example's `with` matches the action's parameter schema", () => {
  const ajv = newAjv({ strict: false })
  const byType = new Map(ACTIONS.map((a) => [a.type, a]))
  for (const step of exampleSteps()) {
    const action = byType.get(step.uses)
    assert.ok(action, `example uses unknown action ${step.uses}`)
    const validate = ajv.compile(action.params)
    assert.ok(validate(step.with ?? {}), `${step.uses}: ${JSON.stringify(validate.errors)}`)
  }
})
