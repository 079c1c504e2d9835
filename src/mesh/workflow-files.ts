import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join, resolve } from 'node:path'
import type { ActionRegistry } from '../core/action.ts'
import { canonicalJson } from '../core/canonical-json.ts'
import type { WorkflowDoc } from '../core/workflow.ts'
import { parseWorkflowSource, type Diagnostic } from '../core/workflow-source.ts'

export const WORKFLOW_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

export interface LoadedWorkflow {
  doc: WorkflowDoc
  file: string
  /** sha256 of the canonical JSON of the document without its `version`. */
  hash: string
}

export interface LoadResult {
  workflows: Map<string, LoadedWorkflow>
  diagnostics: Diagnostic[]
  files: string[]
}

/** Content hash that identifies a workflow version (the store-assigned `version` is left out). */
export function workflowHash(doc: WorkflowDoc): string {
  const { version: _version, ...rest } = doc
  return createHash('sha256').update(canonicalJson(rest)).digest('hex')
}

/** Lists workflow files under a directory (recursively) or the file itself, sorted. */
export async function workflowFiles(path: string): Promise<string[]> {
  const info = await stat(path)
  if (info.isFile()) return [resolve(path)]
  const out: string[] = []
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && WORKFLOW_EXTENSIONS.has(extname(entry.name)) && !entry.name.startsWith('.')) {
      out.push(resolve(join(entry.parentPath, entry.name)))
    }
  }
  return out.sort()
}

/**
 * Reads and validates every workflow file under `paths`. Every problem of every file is reported;
 * a workflow id defined in two files is an error at the second.
 */
export async function loadWorkflows(paths: readonly string[], actions: ActionRegistry): Promise<LoadResult> {
  const result: LoadResult = { workflows: new Map(), diagnostics: [], files: [] }
  for (const path of paths) {
    let files: string[]
    try {
      files = await workflowFiles(path)
    } catch (err) {
      result.diagnostics.push({
        file: path,
        line: 0,
        column: 0,
        pointer: '',
        code: 'HS_ERR_WORKFLOW_NOT_FOUND',
        message: `cannot read ${path}: ${(err as Error).message}`,
      })
      continue
    }
    for (const file of files) {
      result.files.push(file)
      const text = await readFile(file, 'utf8')
      const { workflows, diagnostics } = parseWorkflowSource(text, file, actions)
      result.diagnostics.push(...diagnostics)
      if (diagnostics.length > 0) continue
      for (const doc of workflows) {
        const seen = result.workflows.get(doc.id)
        if (seen) {
          result.diagnostics.push({
            file,
            line: 1,
            column: 1,
            pointer: '/id',
            code: 'HS_ERR_WORKFLOW_INVALID',
            message: `workflow id \`${doc.id}\` is already defined in ${seen.file}`,
          })
          continue
        }
        result.workflows.set(doc.id, { doc, file, hash: workflowHash(doc) })
      }
    }
  }
  return result
}
