import { once, type HandlerContext } from './recorder.ts'

const tracked = new Map<string, string[]>()

/** Demo monitoring kernel: keeps the improvement suggestions per component to follow them up. */
export default {
  track_improvement(
    args: { component_id: string; score: number; suggestions: string[] },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => {
      const list = [...(tracked.get(args.component_id) ?? []), ...args.suggestions]
      tracked.set(args.component_id, list)
      return { status: 'tracking', component_id: args.component_id, score: args.score, tracked: list.length }
    })
  },
}
