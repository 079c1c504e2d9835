import { nextId, once, type HandlerContext } from './recorder.ts'

/**
 * Demo AVN core: the immune system kernel that takes over when a component is in trouble. The source
 * document's `escalate_healing(self, component_id, current_score, recommended_actions)` becomes one
 * method taking one object: homeostat calls `method(args, context)` with the step's `with.args`.
 */
export default {
  escalate_healing(
    args: {
      component_id: string
      current_score: number
      recommended_actions?: string[]
      issue_type?: string
    },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: 'healing_initiated',
      component_id: args.component_id,
      escalation_id: nextId('esc'),
      issue_type: args.issue_type ?? 'unspecified',
      // the emergency healing sequence of the source document, step 5
      sequence: ['analyze_recent_changes', 'allocate_resources', 'trigger_diagnostics'],
      recommended_actions: args.recommended_actions ?? [],
    }))
  },

  emergency_restart(
    args: { component_id: string; error_type: string; message: string },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({
      status: 'restart_requested',
      component_id: args.component_id,
      strategy: args.error_type === 'out_of_memory' ? 'restart_with_more_memory' : 'restart',
      incident_id: nextId('inc'),
    }))
  },
}
