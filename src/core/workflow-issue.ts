/** Codes a workflow diagnostic can carry (a subset of the catalogue in `errors.ts`). */
export type WorkflowIssueCode =
  | 'HS_ERR_WORKFLOW_INVALID'
  | 'HS_ERR_ACTION_UNKNOWN'
  | 'HS_ERR_ACTION_PARAMS'
  | 'HS_ERR_EXPR_PARSE'
  | 'HS_ERR_EXPR_LIMIT'

/**
 * One problem found in a workflow, before it is given a file position. `pointer` addresses the
 * normalised (canonical) document, unless `written` is set: then it addresses the document as written
 * (problems the normaliser finds in long-form fields that do not survive normalisation).
 */
export interface WorkflowIssue {
  pointer: string
  code: WorkflowIssueCode
  message: string
  /** Point at the key of `pointer` rather than at its value (unknown keys, misplaced settings). */
  at?: 'key' | 'value'
  /** Offset of the fault inside the string value at `pointer` (expressions). */
  offset?: number
  written?: boolean
}
