import { Document, isCollection, isScalar, isSeq } from 'yaml'
import { isPlainObject, ordered } from './json-pointer.ts'
import type { WorkflowDoc } from './workflow.ts'
import {
  NEED_KEYS,
  RETRY_KEYS,
  SETTINGS_KEYS,
  STEP_KEYS,
  WORKFLOW_KEYS,
  triggerKeys,
} from './workflow-schema.ts'

/**
 * Canonical YAML of a normalised workflow, as `homeostat show` prints it: keys in the documented
 * order (workflow, step, trigger, retry), short lists of names (`needs`, `tags`, trigger `paths`) and
 * builder positions in flow style, no line folding. Parsing the text again gives the same document.
 */
export function toCanonicalYaml(doc: WorkflowDoc): string {
  const value = orderWorkflow(doc as unknown as Record<string, unknown>)
  const yaml = new Document(value)
  const flow = (path: Array<string | number>): void => {
    const node = yaml.getIn(path, true)
    if (!isCollection(node)) return
    const scalarsOnly = node.items.every((item) => (isSeq(node) ? isScalar(item) : true))
    if (scalarsOnly) node.flow = true
  }
  flow(['tags'])
  const steps = Array.isArray(value.steps) ? value.steps : []
  steps.forEach((_, i) => {
    flow(['steps', i, 'needs'])
    flow(['steps', i, 'ui'])
  })
  const triggers = Array.isArray(value.triggers) ? value.triggers : []
  triggers.forEach((_, i) => {
    for (const key of ['paths', 'events', 'ignore']) flow(['triggers', i, key])
  })
  return yaml.toString({ lineWidth: 0, flowCollectionPadding: false })
}

function orderRetry(retry: unknown): unknown {
  return isPlainObject(retry) ? ordered(retry, RETRY_KEYS) : retry
}

function orderWorkflow(doc: Record<string, unknown>): Record<string, unknown> {
  const out = ordered(doc, WORKFLOW_KEYS)
  if (isPlainObject(out.settings)) {
    const settings = ordered(out.settings, SETTINGS_KEYS)
    if (settings.retry !== undefined) settings.retry = orderRetry(settings.retry)
    out.settings = settings
  }
  if (Array.isArray(out.triggers)) {
    out.triggers = out.triggers.map((t: unknown) =>
      isPlainObject(t) ? ordered(t, triggerKeys(typeof t.type === 'string' ? t.type : '')) : t,
    )
  }
  if (Array.isArray(out.steps)) {
    out.steps = out.steps.map((s: unknown) => {
      if (!isPlainObject(s)) return s
      const step = ordered(s, STEP_KEYS)
      if (step.retry !== undefined) step.retry = orderRetry(step.retry)
      if (Array.isArray(step.needs)) {
        step.needs = step.needs.map((n: unknown) => (isPlainObject(n) ? ordered(n, NEED_KEYS) : n))
      }
      if (isPlainObject(step.ui)) step.ui = ordered(step.ui, ['x', 'y'])
      return step
    })
  }
  return out
}
