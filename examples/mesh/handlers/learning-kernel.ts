import { nextId, once, type HandlerContext } from './recorder.ts'

/** Demo learning kernel: schedules adaptive learning for a component that is drifting, not failing. */
export default {
  trigger_adaptive_learning(
    args: { component_id: string; reason: string; observed?: number; expected?: number; hints?: string[] },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: 'learning_scheduled',
      component_id: args.component_id,
      reason: args.reason,
      session_id: nextId('learn'),
    }))
  },
}
