/**
 * word-count: an example homeostat plugin (docs/plugins.md walks through it). It contributes
 * - an action, `words.count`: counts words, lines and characters of a text and its most frequent words;
 * - a handler, `word_stats`, whose `count` method `handler.call` reaches as `word_stats.count`;
 * - a command, `summarise`, that `plugin.execute` runs as `{ plugin: word-count, command: summarise }`.
 * List it in homeostat.yaml under `plugins:` (this directory's homeostat.yaml does).
 */
import type { ActionContext } from '../../../src/core/action.ts'
import { definePlugin } from '../../../src/plugins/define-plugin.ts'

export interface WordCount {
  words: number
  lines: number
  characters: number
  top: Array<{ word: string; count: number }>
}

/** Counts `text`; `top` most frequent words (case-folded), ties in alphabetical order. */
export function countWords(text: string, top = 5, signal?: AbortSignal): WordCount {
  const counts = new Map<string, number>()
  const words = text.toLowerCase().match(/[\p{L}\p{N}'’-]+/gu) ?? []
  for (const [i, word] of words.entries()) {
    // a long text is counted in slices; a cancelled or timed-out step stops between them
    if (i % 10_000 === 0 && signal?.aborted) throw signal.reason as Error
    counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  return {
    words: words.length,
    lines: text === '' ? 0 : text.split(/\r?\n/).length,
    characters: Array.from(text).length,
    top: [...counts]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .slice(0, top)
      .map(([word, count]) => ({ word, count })),
  }
}

const TOP = {
  type: 'integer',
  minimum: 0,
  maximum: 100,
  default: 5,
  description: 'How many of the most frequent words to list',
}

export default definePlugin({
  name: 'word-count',
  version: '1.0.0',
  actions: [
    {
      type: 'words.count',
      description: 'Counts the words, lines and characters of a text and lists its most frequent words.',
      params: {
        type: 'object',
        properties: {
          text: { type: 'string', maxLength: 10_000_000, description: 'The text to count' },
          top: TOP,
        },
        required: ['text'],
        additionalProperties: false,
      },
      output: {
        type: 'object',
        properties: {
          words: { type: 'integer', description: 'Number of words' },
          lines: { type: 'integer', description: 'Number of lines' },
          characters: { type: 'integer', description: 'Number of characters (code points)' },
          top: {
            type: 'array',
            description: 'The most frequent words, most frequent first',
            items: {
              type: 'object',
              properties: {
                word: { type: 'string', description: 'The word, lower-cased' },
                count: { type: 'integer', description: 'How often it occurs' },
              },
            },
          },
        },
        required: ['words', 'lines', 'characters', 'top'],
      },
      // read-only: a dry run runs it for real, and it needs no plan()
      sideEffects: false,
      execute: (params: { text: string; top?: number }, ctx: ActionContext) =>
        countWords(params.text, params.top ?? 5, ctx.signal),
    },
  ],
  handlers: {
    word_stats: {
      /** `handler.call` with `target: word_stats.count`, `args: { text }`. */
      count(args: { text?: unknown }, context: { signal: AbortSignal; idempotencyKey: string }) {
        if (typeof args.text !== 'string') {
          // `retryable: false`: the engine does not retry a call that cannot succeed
          throw Object.assign(new Error('word_stats.count needs args.text, a string'), { retryable: false })
        }
        return { words: countWords(args.text, 0, context.signal).words, key: context.idempotencyKey }
      },
    },
  },
  commands: {
    summarise: {
      description: 'One line about a text: "<n> words, <m> lines; mostly <word>".',
      params: {
        type: 'object',
        properties: { text: { type: 'string' }, top: { ...TOP, default: 1 } },
        required: ['text'],
        additionalProperties: false,
      },
      sideEffects: false,
      run: (args: Record<string, unknown>, ctx: ActionContext) => {
        const count = countWords(args.text as string, args.top as number, ctx.signal)
        ctx.logger.info('summarised a text', { words: count.words })
        const mostly = count.top[0] ? `; mostly "${count.top[0].word}"` : ''
        return { summary: `${count.words} words, ${count.lines} lines${mostly}`, count }
      },
    },
  },
})
