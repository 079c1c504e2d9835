import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import { clearHandlerCalls, handlerCalls } from '../../examples/mesh/handlers/recorder.ts'
import { builtinActions } from '../../src/actions/builtin-actions.ts'
import { eventActions } from '../../src/actions/event-actions.ts'
import { handlerActions } from '../../src/actions/handler-actions.ts'
import type { ActionRegistry } from '../../src/core/action.ts'
import type { CloudEvent } from '../../src/core/event.ts'
import type { HandlerInvoker } from '../../src/core/handler-port.ts'
import type { EventPublisher, PublishedEvent } from '../../src/core/publisher-port.ts'
import type { WorkflowDoc } from '../../src/core/workflow.ts'
import { formatDiagnostic, parseWorkflowSource } from '../../src/core/workflow-source.ts'
import {
  HandlerRegistry,
  handlersUsedBy,
  workflowsByHandler,
  type HandlerConfig,
} from '../../src/mesh/handler-registry.ts'
import { harness } from '../helpers/engine-harness.ts'

/**
 * The source document's system as shipped in examples/: the nine workflows of its table, the
 * payloads of its events, the seven kernels, and the scenario of its "Example Usage" run for real.
 */
const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples')
const WORKFLOWS_FILE = resolve(EXAMPLES, 'mesh', 'workflows', 'trigger_mesh_workflows.yaml')
const SCHEMAS_FILE = resolve(EXAMPLES, 'mesh', 'schemas', 'event_schemas.yaml')
const CONFIG_FILE = resolve(EXAMPLES, 'homeostat.yaml')

const config = parseYaml(readFileSync(CONFIG_FILE, 'utf8')) as {
  workflows: string[]
  schemas: string[]
  handlers: Record<string, HandlerConfig>
}
const schemas = (
  parseYaml(readFileSync(SCHEMAS_FILE, 'utf8')) as {
    event_types: Record<
      string,
      { description: string; data: Record<string, unknown> & { examples?: unknown[] } }
    >
  }
).event_types

function withMeshActions(invoker: HandlerInvoker, publisher: EventPublisher): (r: ActionRegistry) => void {
  return (registry) => {
    for (const action of handlerActions(invoker)) registry.register(action)
    for (const action of eventActions(publisher)) registry.register(action)
  }
}

function parseExamples(): WorkflowDoc[] {
  const registry = builtinActions()
  withMeshActions(
    { call: async () => ({}), describe: () => [] },
    { publish: async () => ({ id: 'x', accepted: true }) },
  )(registry)
  const { workflows, diagnostics } = parseWorkflowSource(
    readFileSync(WORKFLOWS_FILE, 'utf8'),
    WORKFLOWS_FILE,
    registry,
  )
  assert.deepEqual(diagnostics.map(formatDiagnostic), [])
  return workflows
}

/** The table of the source document: workflow, trigger event, filter, target kernel. */
const TABLE: Array<[string, string, Record<string, unknown> | undefined, string]> = [
  ['kpi_critical_healing', 'kpi.threshold_breach', { severity: 'CRITICAL' }, 'avn_core'],
  ['kpi_warning_adaptation', 'kpi.threshold_breach', { severity: 'WARNING' }, 'learning_kernel'],
  ['trust_degradation_review', 'trust.degradation_detected', undefined, 'governance_kernel'],
  ['test_quality_critical_healing', 'test_quality.healing_required', { severity: 'CRITICAL' }, 'avn_core'],
  [
    'test_quality_degraded_learning',
    'test_quality.healing_required',
    { status: 'DEGRADED' },
    'learning_kernel',
  ],
  ['test_quality_improvement_tracking', 'test_quality.improvement_suggested', undefined, 'monitoring_kernel'],
  ['healing_recovery_metrics', 'healing.recovery_complete', undefined, 'kpi_trust_monitor'],
  ['db_critical_audit', 'db.table_updated', undefined, 'governance_kernel'],
  ['kernel_crash_response', 'system.critical_error', undefined, 'avn_core'],
]

test('the nine workflows of the source document are valid, enabled, each with its trigger, filter and kernel', () => {
  const workflows = parseExamples()
  assert.deepEqual(
    workflows.map((w) => w.id),
    TABLE.map(([id]) => id),
  )
  for (const [id, event, filter, kernel] of TABLE) {
    const doc = workflows.find((w) => w.id === id)!
    assert.equal(doc.enabled, true, id)
    assert.ok(
      doc.description && doc.name && doc.tags && doc.tags.length > 0,
      `${id} has a name, description and tags`,
    )
    assert.equal(doc.triggers?.length, 1, id)
    const [trigger] = doc.triggers!
    assert.equal(trigger!.type, 'event')
    assert.equal(trigger!.event, event, id)
    if (filter) assert.deepEqual(trigger!.filter, filter, id)
    assert.ok(handlersUsedBy(doc).includes(kernel), `${id} calls ${kernel}`)
  }
})

test('stats: 7 unique subscribed event types and the workflows by kernel of the source document', () => {
  const workflows = parseExamples()
  const types = new Set(workflows.flatMap((w) => (w.triggers ?? []).map((t) => String(t.event))))
  assert.deepEqual([...types].sort(), [
    'db.table_updated',
    'healing.recovery_complete',
    'kpi.threshold_breach',
    'system.critical_error',
    'test_quality.healing_required',
    'test_quality.improvement_suggested',
    'trust.degradation_detected',
  ])
  assert.deepEqual(workflowsByHandler(workflows), [
    { handler: 'avn_core', workflows: 3 },
    { handler: 'learning_kernel', workflows: 2 },
    { handler: 'governance_kernel', workflows: 2 },
    { handler: 'orchestration_kernel', workflows: 2 },
    { handler: 'monitoring_kernel', workflows: 1 },
    { handler: 'kpi_trust_monitor', workflows: 1 },
    { handler: 'alert_manager', workflows: 1 },
  ])
})

test('event schemas: the seven subscribed types plus healing.escalation_requested; examples and filters fit them', () => {
  const workflows = parseExamples()
  assert.equal(Object.keys(schemas).length, 8)
  assert.ok('healing.escalation_requested' in schemas)
  const ajv = new Ajv({ strict: false, allErrors: true })
  for (const [type, { description, data }] of Object.entries(schemas)) {
    assert.ok(description, `${type} has a description`)
    const validate = ajv.compile(data)
    assert.ok((data.examples ?? []).length > 0, `${type} has an example`)
    for (const example of data.examples ?? [])
      assert.ok(validate(example), `${type} example: ${ajv.errorsText(validate.errors)}`)
  }
  for (const doc of workflows) {
    const trigger = doc.triggers![0]!
    const schema = schemas[trigger.event as string]
    assert.ok(schema, `${doc.id}: ${String(trigger.event)} has a schema`)
    const properties = schema.data.properties as Record<string, Record<string, unknown>>
    for (const [key, wanted] of Object.entries((trigger.filter ?? {}) as Record<string, unknown>)) {
      assert.ok(properties[key], `${doc.id}: filter key ${key} is a field of ${String(trigger.event)}`)
      const validate = ajv.compile(properties[key])
      for (const value of Array.isArray(wanted) ? wanted : [wanted])
        assert.ok(validate(value), `${doc.id}: ${key}=${String(value)}`)
    }
  }
})

test('examples/homeostat.yaml wires the seven kernels, and every target the workflows call exists', async () => {
  assert.deepEqual(config.workflows, ['mesh/workflows'])
  assert.deepEqual(config.schemas, ['mesh/schemas'])
  const registry = await HandlerRegistry.load(config.handlers, EXAMPLES)
  const methods = new Map(registry.describe().map((h) => [h.name, h.methods ?? []]))
  assert.deepEqual([...methods.keys()].sort(), [
    'alert_manager',
    'avn_core',
    'governance_kernel',
    'kpi_trust_monitor',
    'learning_kernel',
    'monitoring_kernel',
    'orchestration_kernel',
  ])
  for (const doc of parseExamples()) {
    for (const step of doc.steps.filter((s) => s.uses === 'handler.call')) {
      const [handler, method] = String(step.with!.target).split('.')
      assert.ok(
        methods.get(handler!)?.includes(method!),
        `${doc.id}/${step.id}: ${String(step.with!.target)} exists`,
      )
    }
  }
})

function matches(data: Record<string, unknown>, filter: Record<string, unknown> | undefined): boolean {
  return Object.entries(filter ?? {}).every(([k, v]) =>
    Array.isArray(v) ? v.includes(data[k]) : data[k] === v,
  )
}

function envelope(type: string, data: unknown, id = 'evt-1'): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/services/test-quality-monitor',
    type,
    time: '2025-11-13T16:33:34Z',
    data,
  }
}

async function meshHarness() {
  const published: PublishedEvent[] = []
  const publisher: EventPublisher = {
    async publish(event) {
      published.push(event)
      return { id: event.id!, accepted: true }
    },
  }
  const handlers = await HandlerRegistry.load(config.handlers, EXAMPLES)
  const h = await harness({ register: withMeshActions(handlers, publisher) })
  for (const doc of parseExamples()) await h.deploy(doc)
  return { h, published }
}

test('the scenario of the source document: a critical test quality event escalates to AVN core, then healing.escalation_requested is published', async () => {
  const { h, published } = await meshHarness()
  clearHandlerCalls()
  // step 2: the event the test quality monitor publishes
  const data = {
    component_id: 'ingress_kernel',
    status: 'CRITICAL',
    score: 45.0,
    severity: 'CRITICAL',
    recommended_actions: ['Review recent code changes', 'Check system resources'],
  }
  const event = envelope('test_quality.healing_required', data)
  const runId = await h.start('test_quality_critical_healing', {}, { type: 'event', event })
  const run = await h.settled(runId)
  assert.equal(run.status, 'succeeded', JSON.stringify(run.error))
  // step 4-5: avn_core.escalate_healing with the parameters substituted from the event
  assert.equal(handlerCalls.length, 1)
  const [call] = handlerCalls
  assert.equal(`${call!.handler}.${call!.method}`, 'avn_core.escalate_healing')
  assert.deepEqual(call!.args, {
    component_id: 'ingress_kernel',
    current_score: 45,
    recommended_actions: ['Review recent code changes', 'Check system resources'],
  })
  assert.equal(call!.idempotencyKey, `${runId}:escalate:0`)
  const attempts = await h.attempts(runId)
  const escalate = attempts.find((a) => a.stepId === 'escalate')!
  assert.equal((escalate.output as { status: string }).status, 'healing_initiated')
  // step 6: the success event, valid against its schema
  assert.equal(published.length, 1)
  const [emitted] = published
  assert.equal(emitted!.type, 'healing.escalation_requested')
  assert.deepEqual(emitted!.data, {
    component_id: 'ingress_kernel',
    escalation_level: 'AVN_CORE',
    trigger_event: {
      id: 'evt-1',
      type: 'test_quality.healing_required',
      source: '/services/test-quality-monitor',
      data,
    },
  })
  const validate = new Ajv({ strict: false }).compile(schemas['healing.escalation_requested']!.data)
  assert.ok(validate(emitted!.data), JSON.stringify(validate.errors))
})

test('every workflow runs to success on an example event of its type, calling the kernels it declares', async () => {
  const { h } = await meshHarness()
  for (const doc of parseExamples()) {
    const trigger = doc.triggers![0]!
    const filter = trigger.filter as Record<string, unknown> | undefined
    const examples = (schemas[trigger.event as string]!.data.examples ?? []) as Array<Record<string, unknown>>
    const first = examples.find((e) => matches(e, filter)) ?? {
      ...examples[0],
      ...Object.fromEntries(Object.entries(filter ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
    }
    assert.ok(matches(first, filter))
    clearHandlerCalls()
    const runId = await h.start(
      doc.id,
      {},
      { type: 'event', event: envelope(trigger.event as string, first, `evt-${doc.id}`) },
    )
    const run = await h.settled(runId)
    assert.equal(run.status, 'succeeded', `${doc.id}: ${JSON.stringify(run.error)}`)
    assert.deepEqual(
      [...new Set(handlerCalls.map((c) => c.handler))].sort(),
      handlersUsedBy(doc).sort(),
      `${doc.id} called its kernels`,
    )
  }
})
