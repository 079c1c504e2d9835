import { nextId, once, type HandlerContext } from './recorder.ts'

/** Demo alert manager: "sends" an alert (records it) and answers with its id. */
export default {
  send_alert(
    args: { severity: string; title: string; message: string; component_id?: string },
    ctx: HandlerContext,
  ) {
    return once(ctx, args, () => ({ status: 'alert_sent', alert_id: nextId('alert'), channel: 'demo' }))
  },
}
