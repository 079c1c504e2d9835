import { nextId, once, type HandlerContext } from './recorder.ts'

/** Demo governance kernel: reviews trust drops and audits changes to critical tables. */
export default {
  review_trust(
    args: { component_id: string; trust_score: number; previous_score: number; reason?: string },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: 'review_opened',
      component_id: args.component_id,
      review_id: nextId('rev'),
      drop: Math.round((args.previous_score - args.trust_score) * 1000) / 1000,
    }))
  },

  audit_change(
    args: { table: string; operation: string; record_id?: string; changed_by?: string },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: 'audited',
      table: args.table,
      operation: args.operation,
      audit_id: nextId('aud'),
    }))
  },
}
