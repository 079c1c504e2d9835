import { once, type HandlerContext } from './recorder.ts'

const restarts = new Map<string, number>()

/** Demo orchestration kernel: closes finished healings and restarts kernels. */
export default {
  complete_healing(
    args: { component_id: string; success: boolean; trust_score?: number | null },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: args.success ? 'healing_closed' : 'healing_reopened',
      component_id: args.component_id,
      released_resources: args.success,
    }))
  },

  restart_kernel(args: { kernel: string; strategy?: string; reason?: string }, ctx: HandlerContext) {
    return once(ctx, args, () => {
      const count = (restarts.get(args.kernel) ?? 0) + 1
      restarts.set(args.kernel, count)
      return {
        status: 'restarted',
        kernel: args.kernel,
        strategy: args.strategy ?? 'restart',
        restart_count: count,
      }
    })
  },
}
