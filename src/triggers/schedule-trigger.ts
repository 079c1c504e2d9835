import { compileCron } from '../core/cron-schedule.ts'
import type { TriggerSourceDefinition, TriggerStateStore } from '../core/trigger-port.ts'
import type { TriggerSpec } from '../core/workflow.ts'
import { TRIGGER_TYPES } from '../core/workflow-schema.ts'

/**
 * The `schedule` trigger source: a timer armed for the next cron tick (croner computes it, in the
 * trigger's time zone or the configured one), which emits `schedule.tick` with `scheduled_at`,
 * `fired_at`, `cron`, `timezone` and `late` (runs read `trigger.scheduledAt`, ...).
 *
 * Once per tick: the event id is the tick's time and its source names the workflow and trigger, so
 * the ingest's (source, id) deduplication starts one run per tick however many processes fire it and
 * however often a crashed one retries. The store keeps the latest tick each trigger handled; at
 * server start, `catch_up: 1` fires the latest tick missed since then (once, marked `late`), and
 * `catch_up: skip` (the default) does not.
 */

export interface ScheduleTrigger extends TriggerSpec {
  type: 'schedule'
  cron: string
  timezone?: string
  catch_up?: 'skip' | 1
}

/** setTimeout's longest delay; a later tick is reached in steps of it. */
const MAX_DELAY_MS = 2 ** 31 - 1

export function scheduleTriggerSource(options: {
  state: TriggerStateStore
  now?: () => number
}): TriggerSourceDefinition<ScheduleTrigger> {
  const now = options.now ?? Date.now
  const state = options.state
  return {
    type: 'schedule',
    description: 'Starts the workflow on a cron schedule, in a time zone.',
    fields: TRIGGER_TYPES.schedule!.fields,
    required: TRIGGER_TYPES.schedule!.required,
    async start(trigger, target, ctx) {
      const timezone = trigger.timezone ?? ctx.timezone
      const schedule = compileCron(trigger.cron, timezone)
      const { workflowId, triggerId } = target
      let timer: NodeJS.Timeout | undefined
      let stopped = false

      const fire = async (tick: number, late: boolean): Promise<void> => {
        const at = new Date(tick).toISOString()
        const result = await ctx.emit(
          {
            scheduled_at: at,
            fired_at: new Date(now()).toISOString(),
            cron: trigger.cron,
            timezone,
            late,
          },
          { id: at, time: at },
        )
        if (result.accepted) await state.setLastTick(workflowId, triggerId, tick)
      }
      const fireSafely = (tick: number, late: boolean): Promise<void> =>
        fire(tick, late).catch((err: unknown) =>
          ctx.logger.error('schedule tick not published', {
            tick: new Date(tick).toISOString(),
            error: (err as Error).message,
          }),
        )

      /** Waits for `tick`, fires it, then arms the tick after it (or after now, if the loop stalled). */
      const arm = (after: number): void => {
        const tick = schedule.next(after)
        if (tick === undefined || stopped) return
        const wait = (): void => {
          if (stopped) return
          const delay = tick - now()
          if (delay > 0) {
            timer = setTimeout(wait, Math.min(delay, MAX_DELAY_MS))
            return
          }
          timer = undefined
          void fireSafely(tick, false)
          arm(Math.max(tick, now()))
        }
        wait()
      }

      const startedAt = now()
      if (ctx.startup && trigger.catch_up === 1) {
        const last = await state.lastTick(workflowId, triggerId)
        const missed = schedule.latest(startedAt)
        if (last !== undefined && missed !== undefined && missed > last) await fireSafely(missed, true)
      }
      // ticks up to now are handled: fired above, or skipped on purpose
      await state.setLastTick(workflowId, triggerId, startedAt)
      arm(startedAt)
      return async (reason) => {
        stopped = true
        clearTimeout(timer)
        // disabled, edited or removed: the ticks until now are skipped, not missed
        if (reason === 'changed') await state.setLastTick(workflowId, triggerId, now())
      }
    },
  }
}
