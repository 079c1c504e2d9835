import { Cron } from 'croner'
import { triggerKey } from './trigger-port.ts'
import type { WorkflowDoc } from './workflow.ts'

/**
 * Cron arithmetic for `schedule` triggers, pure (croner computes, nothing is scheduled here): the
 * validator checks patterns with it, `homeostat show` and the API print the next fire times, and the
 * schedule source in `triggers/` arms its timers from it.
 *
 * Patterns have 5 fields (minute hour day month weekday), 6 (seconds first), or are one of
 * `@yearly @annually @monthly @weekly @daily @midnight @hourly`. When both day-of-month and weekday are
 * restricted, either matching fires (the classic cron rule).
 */

export interface CronSchedule {
  readonly pattern: string
  readonly timezone: string
  /** The first tick strictly after `after` (ms since the epoch), or undefined when there is none. */
  next(after: number): number | undefined
  /** The latest tick at or before `at`, or undefined when there is none. */
  latest(at: number): number | undefined
}

/** Compiles a pattern in a time zone; throws an `Error` saying what is wrong with the pattern. */
export function compileCron(pattern: string, timezone: string): CronSchedule {
  const cron = new Cron(pattern.trim(), { timezone })
  return {
    pattern,
    timezone,
    next: (after) => cron.nextRun(new Date(after))?.getTime(),
    // previousRuns looks strictly before its reference: one millisecond later includes `at` itself
    latest: (at) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime(),
  }
}

/** Why `pattern` is not a valid cron pattern (croner's words), or undefined when it is. */
export function cronProblem(pattern: string): string | undefined {
  try {
    compileCron(pattern, 'UTC')
    return undefined
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '')
  }
}

/** The next `count` fire times after `from`, as ms since the epoch (fewer when the pattern ends). */
export function nextFireTimes(pattern: string, timezone: string, from: number, count: number): number[] {
  const schedule = compileCron(pattern, timezone)
  const out: number[] = []
  let at = from
  while (out.length < count) {
    const next = schedule.next(at)
    if (next === undefined) break
    out.push(next)
    at = next
  }
  return out
}

/** ISO 8601 with the zone's offset (`2026-03-30T09:00:00+02:00`), as a person in that zone reads it. */
export function formatInZone(at: number, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : (parts.timeZoneName ?? 'GMT').replace('GMT', '')
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`
}

/** The next fire times of one schedule trigger, as `homeostat show` and `GET /api/workflows/:id` give them. */
export interface ScheduleForecast {
  /** The trigger's key: its `id`, or its index from 0. */
  trigger: string
  cron: string
  timezone: string
  /** The next fire times in the trigger's zone (`2026-03-30T09:00:00+02:00`); empty when disabled. */
  next: string[]
  /** Set when the trigger cannot fire (a bad pattern, `enabled: false`). */
  problem?: string
}

/** Forecasts every `schedule` trigger of a workflow: the next `count` fire times after `from`. */
export function scheduleForecast(
  doc: WorkflowDoc,
  defaultTimezone: string,
  from: number,
  count: number,
): ScheduleForecast[] {
  const out: ScheduleForecast[] = []
  ;(doc.triggers ?? []).forEach((trigger, index) => {
    if (trigger.type !== 'schedule' || typeof trigger.cron !== 'string') return
    const timezone = typeof trigger.timezone === 'string' ? trigger.timezone : defaultTimezone
    const base = { trigger: triggerKey(trigger, index), cron: trigger.cron, timezone }
    if (trigger.enabled === false) {
      out.push({ ...base, next: [], problem: 'the trigger is disabled' })
      return
    }
    try {
      const next = nextFireTimes(trigger.cron, timezone, from, count).map((t) => formatInZone(t, timezone))
      out.push({ ...base, next })
    } catch (err) {
      out.push({ ...base, next: [], problem: err instanceof Error ? err.message : String(err) })
    }
  })
  return out
}
