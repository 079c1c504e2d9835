import type { DryRunStep } from '../core/dry-run.ts'
import { brief, paint, print, STATUS_ICON } from './output.ts'

/**
 * Prints a dry run step by step, in the order the steps ran: what each side-effecting step would do
 * ("would write …", "would run …") with its targets, what each read-only step returned, and why a
 * step failed or was skipped.
 */
export function printDryRun(steps: readonly DryRunStep[]): void {
  print(paint('bold', 'dry run: side effects were planned, not performed'))
  if (steps.length === 0) return print('  no step ran')
  for (const s of steps) {
    const name = s.index === undefined ? s.step : `${s.step}[${s.index}]`
    const action = s.action ? paint('gray', ` (${s.action})`) : ''
    if (s.planned) {
      print(`  ${paint('cyan', '◇')} ${name}${action}: would ${s.summary ?? 'run'}`)
      if (s.details !== undefined) print(`      ${paint('gray', brief(s.details, 160))}`)
    } else if (s.status === 'succeeded') {
      print(
        `  ${paint('green', STATUS_ICON.succeeded!)} ${name}${action}: ran (read-only) → ${brief(s.output, 100)}`,
      )
    } else if (s.status === 'skipped') {
      print(`  ${paint('gray', `${STATUS_ICON.skipped!} ${name}${action}: skipped, ${s.reason ?? ''}`)}`)
    } else {
      const icon = STATUS_ICON[s.status] ?? '?'
      print(`  ${paint('red', icon)} ${name}${action}: ${s.status}${s.error ? `: ${s.error.message}` : ''}`)
    }
  }
}
