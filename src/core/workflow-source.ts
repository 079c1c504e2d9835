import type { ActionRegistry } from './action.ts'
import { get, isPlainObject, join, parent, setOwn } from './json-pointer.ts'
import { normaliseWorkflow, type Normalised } from './normalise.ts'
import { unknownKey } from './suggest.ts'
import { validateNormalisedWorkflow } from './validate-workflow.ts'
import type { WorkflowDoc } from './workflow.ts'
import type { WorkflowIssue } from './workflow-issue.ts'
import {
  loadYaml,
  offsetInScalar,
  type LoadedDocument,
  type SourcePos,
  type YamlSource,
} from './yaml-positions.ts'

export { toCanonicalYaml } from './canonical-yaml.ts'

/**
 * Workflow files in, canonical workflows and diagnostics out. Pure: the caller reads the file and
 * passes its text and name. Every problem is reported at once, each with `file:line:column` and a JSON
 * pointer into the document as written (docs/workflow-format.md lists the checks).
 */

export interface Diagnostic {
  file: string
  /** 1-based; 0 when the document did not come from text. */
  line: number
  /** 1-based; 0 when the document did not come from text. */
  column: number
  /** JSON pointer into the document as written ('' is the whole document). */
  pointer: string
  code: string
  message: string
}

/** Largest workflow file accepted, in bytes (UTF-8). */
export const MAX_SOURCE_BYTES = 1024 * 1024
/** Deepest nesting of mappings and lists accepted. */
export const MAX_DEPTH = 64

const NO_POS: SourcePos = { offset: 0, line: 0, column: 0 }

/** "file:line:column: message [code] (at /json/pointer)" */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message} [${d.code}] (at ${d.pointer === '' ? '/' : d.pointer})`
}

/**
 * Parses a YAML (or JSON) text holding one workflow, a list of workflows, or `{workflows: [...]}`
 * (several `---` documents are also accepted), normalises the long form and validates. Returns the
 * workflows that have no problem, and every problem found. A document with YAML syntax errors is not
 * checked further (its content is unreliable); all its syntax errors are reported.
 */
export function parseWorkflowSource(
  text: string,
  file: string,
  actions: ActionRegistry,
): { workflows: WorkflowDoc[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const at = (pos: SourcePos, pointer: string, message: string): Diagnostic => ({
    file,
    line: pos.line,
    column: pos.column,
    pointer,
    code: 'HS_ERR_WORKFLOW_INVALID',
    message,
  })
  const bytes = utf8Length(text)
  if (bytes > MAX_SOURCE_BYTES) {
    const message = `file is ${bytes} bytes; the limit for a workflow file is ${MAX_SOURCE_BYTES} bytes (1 MiB): split it into several files`
    return { workflows: [], diagnostics: [at({ offset: 0, line: 1, column: 1 }, '', message)] }
  }
  let loaded: ReturnType<typeof loadYaml>
  try {
    loaded = loadYaml(text, { maxDepth: MAX_DEPTH })
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    const message = `the document is nested too deeply to read (more than ${MAX_DEPTH} levels are not allowed)`
    return { workflows: [], diagnostics: [at({ offset: 0, line: 1, column: 1 }, '', message)] }
  }
  const { source, documents } = loaded
  const content = documents.filter((d) => !d.empty || d.syntaxErrors.length > 0)
  if (content.length === 0) {
    const message =
      'the file is empty: expected a workflow (a mapping with `id` and `steps`) or a list of workflows'
    return { workflows: [], diagnostics: [at({ offset: 0, line: 1, column: 1 }, '', message)] }
  }

  const entries: Entry[] = []
  for (const doc of content) {
    for (const p of doc.syntaxErrors) diagnostics.push(at(p.pos, p.pointer, p.message))
    if (doc.syntaxErrors.length > 0) continue
    for (const p of doc.problems) diagnostics.push(at(p.pos, p.pointer, p.message))
    for (const { base, raw } of workflowsIn(doc, (pointer, message, key) =>
      diagnostics.push(at(position(doc, source, pointer, key ? 'key' : 'value'), pointer, message)),
    )) {
      entries.push({ base, raw, doc, normalised: normaliseWorkflow(raw), blocked: doc.problems.length > 0 })
    }
  }
  const workflows: WorkflowDoc[] = []
  const ids = new Map<string, Entry>()
  for (const entry of entries) {
    const issues = [...entry.normalised.issues, ...validateNormalisedWorkflow(entry.normalised.doc, actions)]
    const { doc, normalised } = entry
    const id = isPlainObject(normalised.doc) ? normalised.doc.id : undefined
    if (typeof id === 'string') {
      const first = ids.get(id)
      if (first) {
        const firstPos = position(
          first.doc,
          source,
          first.base + first.normalised.origins.resolve('/id'),
          'value',
        )
        issues.push({
          pointer: '/id',
          code: 'HS_ERR_WORKFLOW_INVALID',
          message: `duplicate workflow id \`${id}\` (also used at line ${firstPos.line}, column ${firstPos.column}); workflow ids must be unique`,
        })
      } else ids.set(id, entry)
    }
    for (const issue of issues)
      diagnostics.push(toDiagnostic(issue, entry, file, (p, k, o, v) => position(doc, source, p, k, o, v)))
    if (issues.length === 0 && !entry.blocked) workflows.push(normalised.doc as WorkflowDoc)
  }
  return { workflows, diagnostics: sortDiagnostics(diagnostics) }
}

/**
 * Validates an already-parsed document (from the API or the builder), in canonical or long form.
 * Positions are 0; every diagnostic has a pointer into `doc`. `workflow` is set when there is no
 * problem.
 */
export function validateWorkflowDoc(
  doc: unknown,
  actions: ActionRegistry,
  file = '<document>',
): { workflow?: WorkflowDoc; diagnostics: Diagnostic[] } {
  const plain = toPlainData(doc)
  if (plain.problem) {
    return {
      diagnostics: [
        {
          file,
          line: 0,
          column: 0,
          pointer: plain.problem.pointer,
          code: 'HS_ERR_WORKFLOW_INVALID',
          message: plain.problem.message,
        },
      ],
    }
  }
  const normalised = normaliseWorkflow(plain.value)
  const issues = [...normalised.issues, ...validateNormalisedWorkflow(normalised.doc, actions)]
  const entry: Entry = { base: '', raw: plain.value, normalised }
  const diagnostics = issues.map((issue) => toDiagnostic(issue, entry, file, () => NO_POS))
  return issues.length === 0 ? { workflow: normalised.doc as WorkflowDoc, diagnostics } : { diagnostics }
}

interface Entry {
  /** Pointer of the workflow inside its YAML document: '', `/0`, `/workflows/2`. */
  base: string
  raw: unknown
  doc?: LoadedDocument
  normalised: Normalised
  /** The YAML document had problems (duplicate keys, nesting): report, but never accept. */
  blocked?: boolean
}

type Locate = (pointer: string, at: 'key' | 'value', offset?: number, expression?: string) => SourcePos

function toDiagnostic(issue: WorkflowIssue, entry: Entry, file: string, locate: Locate): Diagnostic {
  const written = issue.written ? issue.pointer : entry.normalised.origins.resolve(issue.pointer)
  const pointer = entry.base + written
  let expression: string | undefined
  if (issue.offset !== undefined) {
    const value = get(issue.written ? entry.raw : entry.normalised.doc, issue.pointer)
    if (typeof value === 'string') expression = value
  }
  const pos = locate(pointer, issue.at ?? 'value', issue.offset, expression)
  return { file, line: pos.line, column: pos.column, pointer, code: issue.code, message: issue.message }
}

/**
 * Position of a pointer: its key or value, or inside its string value at `offset` (of `expression`,
 * which may be a part of the written string); the nearest written ancestor when the pointer names
 * something derived or missing.
 */
function position(
  doc: LoadedDocument | undefined,
  source: YamlSource,
  pointer: string,
  at: 'key' | 'value',
  offset?: number,
  expression?: string,
): SourcePos {
  if (!doc) return NO_POS
  let p = pointer
  while (!doc.nodes.has(p) && p !== '') p = parent(p)
  const info = doc.nodes.get(p)
  if (!info) return doc.start
  if (p !== pointer) return info.value
  if (offset !== undefined && info.scalar) {
    const start = expression === undefined ? 0 : info.scalar.value.indexOf(expression)
    const inside = offsetInScalar(info, Math.max(0, start) + offset, source)
    if (inside) return inside
  }
  return at === 'key' && info.key ? info.key : info.value
}

/** The workflows a YAML document holds, with their pointers; shape problems are reported. */
function workflowsIn(
  doc: LoadedDocument,
  report: (pointer: string, message: string, key?: boolean) => void,
): Array<{ base: string; raw: unknown }> {
  const value = doc.value
  if (Array.isArray(value)) {
    if (value.length === 0) report('', 'the list of workflows is empty')
    return value.map((raw, i) => ({ base: join('', i), raw }))
  }
  if (isPlainObject(value) && Object.hasOwn(value, 'workflows') && !Object.hasOwn(value, 'steps')) {
    for (const key of Object.keys(value)) {
      if (key !== 'workflows')
        report(join('', key), unknownKey(key, 'a file of `workflows:`', ['workflows']), true)
    }
    const list = value.workflows
    if (!Array.isArray(list)) {
      report('/workflows', '`workflows` must be a list of workflows')
      return []
    }
    return list.map((raw, i) => ({ base: join('/workflows', i), raw }))
  }
  if (isPlainObject(value)) return [{ base: '', raw: value }]
  const got =
    value === null
      ? 'nothing'
      : typeof value === 'string'
        ? `the text \`${value.slice(0, 40)}\``
        : `a ${typeof value}`
  report(
    '',
    `expected a workflow (a mapping with \`id\` and \`steps\`) or a list of workflows, but the document holds ${got}`,
  )
  return []
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
    .map(({ d }) => d)
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/**
 * A JSON-like copy of an API document, refusing what a workflow cannot hold: nesting deeper than
 * MAX_DEPTH, more than MAX_SOURCE_BYTES of text, functions, symbols, cycles.
 */
function toPlainData(value: unknown): { value: unknown; problem?: { pointer: string; message: string } } {
  let problem: { pointer: string; message: string } | undefined
  let chars = 0
  const seen = new Set<object>()
  const copy = (v: unknown, pointer: string, depth: number): unknown => {
    if (problem) return null
    if (typeof v === 'string') chars += v.length
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
    if (typeof v !== 'object') {
      problem = { pointer, message: `a workflow holds only JSON data, not ${typeof v}` }
      return null
    }
    if (depth >= MAX_DEPTH) {
      problem = { pointer, message: `nesting deeper than ${MAX_DEPTH} levels` }
      return null
    }
    if (seen.has(v)) {
      problem = { pointer, message: 'the document refers to itself (a cycle)' }
      return null
    }
    seen.add(v)
    let out: unknown
    if (Array.isArray(v)) out = v.map((item, i) => copy(item, join(pointer, i), depth + 1))
    else {
      const obj: Record<string, unknown> = {}
      for (const [k, item] of Object.entries(v)) {
        chars += k.length
        if (item !== undefined) setOwn(obj, k, copy(item, join(pointer, k), depth + 1))
      }
      out = obj
    }
    seen.delete(v)
    if (chars > MAX_SOURCE_BYTES && !problem)
      problem = { pointer: '', message: `the document is larger than ${MAX_SOURCE_BYTES} characters (1 MiB)` }
    return out
  }
  const out = copy(value, '', 0)
  return problem ? { value: out, problem } : { value: out }
}
