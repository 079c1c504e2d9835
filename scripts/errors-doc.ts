/**
 * Regenerates docs/errors.md from the catalogue in src/core/errors.ts (`npm run docs:errors`).
 * test/docs.test.ts fails when the two disagree.
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ERROR_CODES } from '../src/core/errors.ts'

const rows = Object.entries(ERROR_CODES)
  .map(([code, { status, fix }]) => `| \`${code}\` | ${status} | ${fix.replace(/\|/g, '\\|')} |`)
  .join('\n')

const doc = `# Error codes

Every error homeostat reports to a user carries a stable code \`HS_ERR_<AREA>_<WHAT>\`. The CLI prints it
with the fix below; the HTTP API answers RFC 9457 problem JSON (\`application/problem+json\`) with
\`type\`, \`title\`, \`status\`, \`detail\`, \`code\`, \`fix\` and, for input errors, \`errors\`: every problem
as a JSON pointer and a message. This file is generated from \`src/core/errors.ts\` by
\`npm run docs:errors\`; \`test/docs.test.ts\` keeps the two in step.

| code | HTTP status | how to fix |
|---|---|---|
${rows}

## Exit codes of the CLI

| code | meaning |
|---|---|
| 0 | success (for \`run\`: the run succeeded, or is waiting / queued) |
| 1 | the run failed, was cancelled or timed out; \`audit verify\` found tampering; or an unexpected internal error |
| 2 | bad input: invalid workflow, invalid inputs or event, unknown command or option, bad configuration |
| 130 | \`run --wait\` interrupted (SIGINT/SIGTERM): the run was released and resumes in the next worker |
`
writeFileSync(resolve(import.meta.dirname, '..', 'docs', 'errors.md'), doc)
