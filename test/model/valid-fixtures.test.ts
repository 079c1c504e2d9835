import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import type { WorkflowDoc } from '../../src/core/workflow.ts'
import { WORKFLOW_SCHEMA } from '../../src/core/workflow-schema.ts'
import { formatDiagnostic, parseWorkflowSource, toCanonicalYaml } from '../../src/core/workflow-source.ts'
import { testActions } from './test-actions.ts'

const dir = new URL('../fixtures/valid/', import.meta.url)
const actions = testActions()

function load(name: string): WorkflowDoc[] {
  const { workflows, diagnostics } = parseWorkflowSource(
    readFileSync(new URL(name, dir), 'utf8'),
    name,
    actions,
  )
  assert.deepEqual(diagnostics.map(formatDiagnostic), [], `${name} should be valid`)
  return workflows
}

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))

for (const name of files) {
  void test(`valid/${name}: canonical YAML re-parses to the same document, and printing is stable`, () => {
    for (const doc of load(name)) {
      const yaml = toCanonicalYaml(doc)
      const again = parseWorkflowSource(yaml, `${name} (canonical)`, actions)
      assert.deepEqual(again.diagnostics.map(formatDiagnostic), [])
      assert.equal(again.workflows.length, 1)
      assert.deepEqual(again.workflows[0], doc)
      assert.equal(toCanonicalYaml(again.workflows[0]!), yaml)
    }
  })

  void test(`valid/${name}: the normalised documents satisfy WORKFLOW_SCHEMA`, () => {
    const validate = new Ajv({ allowUnionTypes: true }).compile(WORKFLOW_SCHEMA)
    for (const doc of load(name)) assert.ok(validate(doc), JSON.stringify(validate.errors))
  })
}

void test('canonical example: accepted as written', () => {
  const [doc] = load('canonical-hello.yaml')
  assert.deepEqual(doc, {
    id: 'hello',
    name: 'Hello',
    description: 'Greets someone',
    enabled: true,
    version: 1,
    inputs: { name: { type: 'string', default: 'world' } },
    variables: { greeting: 'Hello' },
    settings: {
      timeout: '5m',
      concurrency: 10,
      retry: { attempts: 3, backoff: 'exponential', delay: '1s', max_delay: '1m' },
    },
    triggers: [{ type: 'manual' }],
    steps: [
      { id: 'compose', uses: 'data.set', with: { message: "{{ vars.greeting + ', ' + inputs.name }}" } },
      {
        id: 'shout',
        uses: 'data.set',
        needs: ['compose'],
        with: {
          loud: "{{ steps.compose.output.message + '!' }}",
          length: '{{ size(steps.compose.output.message) }}',
        },
      },
    ],
  })
})

void test('canonical YAML: documented key order', () => {
  const [doc] = load('canonical-hello.yaml')
  const yaml = toCanonicalYaml(doc!)
  const topKeys = yaml
    .split('\n')
    .filter((l) => /^[a-z_]+:/.test(l))
    .map((l) => l.split(':')[0])
  assert.deepEqual(topKeys, [
    'id',
    'name',
    'description',
    'enabled',
    'version',
    'inputs',
    'variables',
    'settings',
    'triggers',
    'steps',
  ])
  assert.match(yaml, /- id: shout\n {4}uses: data.set\n {4}needs: \[compose\]\n {4}with:/)
})

void test('long form (code review example): ids from names, sequential needs, action → uses/with, trigger config flattened', () => {
  const [doc] = load('long-form-code-review.yaml')
  assert.equal(doc!.id, 'automated_code_review')
  assert.deepEqual(doc!.triggers, [
    { type: 'file_change', paths: ['src/**/*.{ts,js,tsx,jsx}'], events: ['change'] },
  ])
  assert.deepEqual(
    doc!.steps.map((s) => [s.id, s.name, s.uses, s.needs]),
    [
      ['read_changed_file', 'Read Changed File', 'data.set', undefined],
      ['ai_code_review', 'AI Code Review', 'data.set', ['read_changed_file']],
      ['post_to_chat', 'Post to Chat', 'log', ['ai_code_review']],
    ],
  )
  assert.deepEqual(doc!.steps[0]!.with, { path: '{{trigger.filePath}}' })
  assert.ok(!('type' in doc!.steps[0]!) && !('action' in doc!.steps[0]!))
})

void test('long form (daily docs example): schedule cron from config, four steps in a chain', () => {
  const [doc] = load('long-form-daily-docs.yaml')
  assert.equal(doc!.id, 'daily_documentation_update')
  assert.deepEqual(doc!.triggers, [{ type: 'schedule', cron: '0 9 * * 1-5' }])
  assert.deepEqual(
    doc!.steps.map((s) => s.needs ?? []),
    [[], ['get_recent_changes'], ['generate_documentation'], ['update_readme']],
  )
})

void test('long form with connections: conditions become `when`, and every long-form field is mapped', () => {
  const [doc] = load('long-form-connections.yaml')
  assert.ok(doc)
  assert.equal(doc.version, undefined, 'a semver string version of the long form is dropped')
  assert.deepEqual(doc.tags, ['ops', 'triage'])
  assert.deepEqual(doc.variables, { threshold: 50, channel: '#ops' })
  assert.deepEqual(doc.settings, {
    timeout: 600000,
    concurrency: 4,
    retry: { attempts: 2, backoff: 'fixed', delay: 500 },
  })
  assert.deepEqual(doc.triggers, [
    {
      type: 'event',
      id: 'breach',
      enabled: true,
      event: 'kpi.threshold_breach',
      filter: 'data.score < 50.0',
    },
  ])
  const byId = new Map(doc.steps.map((s) => [s.id, s]))
  assert.deepEqual(byId.get('check'), {
    id: 'check',
    name: 'Check',
    uses: 'data.set',
    with: { source: 'kpi', score: '{{ event.data.score }}' },
    retry: { attempts: 3, backoff: 'exponential', delay: 1000, max_delay: 10000 },
    timeout: 30000,
    ui: { x: 100, y: 40 },
  })
  assert.deepEqual(byId.get('notify')!.needs, ['check'])
  assert.equal(byId.get('notify')!.on_error, 'continue')
  assert.deepEqual(byId.get('escalate')!.needs, [
    { step: 'check', when: 'steps.check.output.score < vars.threshold' },
  ])
  assert.equal(byId.get('escalate')!.on_error, 'fail')
  assert.deepEqual(byId.get('report_failure')!.needs, [{ step: 'check', when: 'failure' }])
  assert.deepEqual(byId.get('summary')!.needs, ['notify', 'escalate'], 'inputs may name a step by its name')
  assert.deepEqual(byId.get('report_failure')!.ui, { x: 300, y: 160 })
})

void test('workflows: list in one file, shorthands normalised', () => {
  const docs = load('many-workflows.yaml')
  assert.deepEqual(
    docs.map((d) => d.id),
    ['first', 'second'],
  )
  const each = docs[1]!.steps[1]!
  assert.equal(each.if, 'size(inputs) >= 0', 'a `{{ }}` wrapper around a bare expression is removed')
  assert.deepEqual(each.needs, [{ step: 'wait', when: 'always' }])
  assert.equal(docs[1]!.kind, 'playbook')
})
