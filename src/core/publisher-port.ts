/**
 * The port through which actions publish events into the mesh (`event.emit`). The mesh ingest
 * implements it: it fills the envelope (`specversion`, `time`, a default `source`), validates `data`
 * against the schema registered for the type, deduplicates by (`source`, `id`) and routes the event
 * like any other. Actions never see the ingest itself.
 */

export interface PublishedEvent {
  /** Dotted type, e.g. `healing.escalation_requested`. */
  type: string
  data?: unknown
  /** URI-reference of the producer; the ingest chooses a default when absent. */
  source?: string
  subject?: string
  /** Unique per `source`; the ingest generates one when absent. A repeated (`source`, `id`) is not routed again. */
  id?: string
}

export interface PublishOptions {
  /** The workflow step that emitted the event, kept with it for tracing. */
  causedBy?: { runId: string; stepId: string }
}

export interface PublishResult {
  /** The event's id (the one given, or the one the ingest assigned). */
  id: string
  /** False when the event was rejected (`problems` says why); a duplicate is accepted and not routed twice. */
  accepted: boolean
  /** What was wrong with the event, each with a JSON pointer into it (e.g. `/data/score`). */
  problems?: Array<{ pointer: string; message: string }>
}

export interface EventPublisher {
  publish(event: PublishedEvent, options?: PublishOptions): Promise<PublishResult>
}
