import { once, type HandlerContext } from './recorder.ts'

const trust = new Map<string, number>()

/** Demo KPI and trust monitor: raises a component's trust after a verified recovery, lowers it after a failed one. */
export default {
  record_recovery(
    args: { component_id: string; success: boolean; duration_ms?: number },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => {
      const before = trust.get(args.component_id) ?? 0.75
      const after = Math.round(Math.min(1, Math.max(0, before + (args.success ? 0.1 : -0.1))) * 100) / 100
      trust.set(args.component_id, after)
      return {
        status: 'trust_updated',
        component_id: args.component_id,
        trust_before: before,
        trust_after: after,
      }
    })
  },
}
