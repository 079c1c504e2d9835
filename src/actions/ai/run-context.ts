import type { ActionContext } from '../../core/action.ts'

/** Default most characters of run context put into a prompt. */
export const DEFAULT_CONTEXT_LIMIT = 16_000

/** The run context as it goes into the prompt, and whether it was cut. */
export interface PromptContext {
  readonly text: string
  /** Characters of the whole serialised context. */
  readonly totalChars: number
  /** Characters of it that went into the prompt. */
  readonly includedChars: number
  readonly truncated: boolean
}

/** JSON of anything a step may output: BigInt as a string, functions and symbols dropped, cycles cut. */
function serialise(value: unknown): string {
  const seen = new WeakSet<object>()
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString()
      if (typeof v === 'function' || typeof v === 'symbol') return undefined
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[cycle]'
        seen.add(v)
      }
      return v
    }) ?? 'null'
  )
}

/**
 * The run's trigger and the outputs of the steps finished so far (`ctx.context()`), as JSON,
 * cut to `limit` characters. A cut context says so in the text itself, so the model (and whoever
 * reads the prompt) knows it saw only part of it.
 */
export function promptContext(ctx: ActionContext, limit: number = DEFAULT_CONTEXT_LIMIT): PromptContext {
  const full = serialise(ctx.context())
  if (full.length <= limit)
    return { text: full, totalChars: full.length, includedChars: full.length, truncated: false }
  const cut = full.slice(0, limit)
  return {
    text: `${cut}\n[context truncated: the first ${limit} of ${full.length} characters are shown]`,
    totalChars: full.length,
    includedChars: limit,
    truncated: true,
  }
}

/** The prompt with the context appended under a heading the model can recognise. */
export function withContext(prompt: string, context: PromptContext): string {
  return `${prompt}\n\nContext of this workflow run (its trigger and the outputs of the steps so far, JSON):\n${context.text}`
}
