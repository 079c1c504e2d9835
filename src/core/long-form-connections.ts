import { isPlainObject, join } from './json-pointer.ts'
import type { Origins, ReportIssue } from './origins.ts'
import { slugify, stripWholeTemplate } from './slug.ts'
import { didYouMean, show, unknownKey } from './suggest.ts'

/**
 * Long-form `connections` → canonical `needs`. A step's `connections.inputs` are steps it needs; its
 * `connections.outputs` add an edge to each target's `needs`, conditioned by `condition` (`success`
 * is the default and prints as a plain id; `failure`, `always`, or `expression` → a CEL `when`). A
 * reference may be a step id or a step name. An edge declared both ways is kept once, with the
 * condition of the output.
 */

export type Need = string | { step: string; when?: string }

export function readConnections(
  list: unknown[],
  ids: Array<string | undefined>,
  needs: Array<Need[] | undefined>,
  context: { origins: Origins; issue: ReportIssue },
): void {
  new ConnectionReader(context.origins, context.issue).read(list, ids, needs)
}

class ConnectionReader {
  readonly #origins: Origins
  readonly #report: ReportIssue

  constructor(origins: Origins, report: ReportIssue) {
    this.#origins = origins
    this.#report = report
  }

  /** Adds the edges of every step's `connections` to `needs` (indexed like the steps). */
  read(list: unknown[], ids: Array<string | undefined>, needs: Array<Need[] | undefined>): void {
    const index = new Map<string, number>()
    ids.forEach((id, i) => {
      if (id !== undefined && !index.has(id)) index.set(id, i)
    })
    const resolve = (ref: unknown): number | undefined => {
      if (typeof ref !== 'string') return undefined
      return index.get(ref) ?? index.get(slugify(ref))
    }
    const known = [...index.keys()]
    const add = (target: number, need: Need, written: string, whenAt?: string): void => {
      const list = (needs[target] ??= [])
      const stepOf = (n: Need): string => (typeof n === 'string' ? n : n.step)
      const name = stepOf(need)
      const existing = list.findIndex((n) => stepOf(n) === name)
      const k = existing >= 0 ? existing : list.length
      if (existing >= 0) {
        if (typeof need === 'string') return
        list[existing] = need
      } else list.push(need)
      this.#origins.set(join('/steps', target, 'needs', k), written)
      if (whenAt !== undefined) this.#origins.set(join('/steps', target, 'needs', k, 'when'), whenAt)
    }

    list.forEach((raw, i) => {
      if (!isPlainObject(raw) || raw.connections === undefined) return
      const at = join('/steps', i, 'connections')
      const c = raw.connections
      if (!isPlainObject(c)) {
        this.#report(
          at,
          '`connections` must be a mapping `{inputs: [step ids], outputs: [{targetStepId, condition}]}`',
        )
        return
      }
      for (const key of Object.keys(c)) {
        if (key !== 'inputs' && key !== 'outputs') {
          this.#report(join(at, key), unknownKey(key, '`connections`', ['inputs', 'outputs']), 'key')
        }
      }
      if (c.inputs !== undefined) {
        if (!Array.isArray(c.inputs))
          this.#report(join(at, 'inputs'), '`connections.inputs` must be a list of step ids')
        else {
          c.inputs.forEach((ref: unknown, j: number) => {
            const from = resolve(ref)
            const refAt = join(at, 'inputs', j)
            if (from === undefined || ids[from] === undefined) {
              this.#report(
                refAt,
                `connection input \`${show(ref)}\` is not a step of this workflow${typeof ref === 'string' ? didYouMean(ref, known) : ''}`,
              )
            } else if (ids[i] !== undefined) add(i, ids[from], refAt)
          })
        }
      }
      if (c.outputs !== undefined) {
        if (!Array.isArray(c.outputs)) {
          this.#report(
            join(at, 'outputs'),
            '`connections.outputs` must be a list of `{targetStepId, condition}`',
          )
          return
        }
        c.outputs.forEach((out: unknown, j: number) =>
          this.#output(out, join(at, 'outputs', j), i, ids, resolve, known, add),
        )
      }
    })
  }

  #output(
    out: unknown,
    at: string,
    i: number,
    ids: Array<string | undefined>,
    resolve: (ref: unknown) => number | undefined,
    known: string[],
    add: (target: number, need: Need, written: string, whenAt?: string) => void,
  ): void {
    if (!isPlainObject(out)) {
      this.#report(at, 'a connection output must be a mapping `{targetStepId, condition}`')
      return
    }
    for (const key of Object.keys(out)) {
      if (!['targetStepId', 'condition', 'label'].includes(key)) {
        this.#report(
          join(at, key),
          unknownKey(key, 'connection output', ['targetStepId', 'condition', 'label']),
          'key',
        )
      }
    }
    const targetAt = join(at, 'targetStepId')
    if (out.targetStepId === undefined) {
      this.#report(at, 'connection output has no `targetStepId`')
      return
    }
    const target = resolve(out.targetStepId)
    if (target === undefined) {
      const ref = out.targetStepId
      this.#report(
        targetAt,
        `connection target \`${show(ref)}\` is not a step of this workflow${typeof ref === 'string' ? didYouMean(ref, known) : ''}`,
      )
      return
    }
    const when = this.#condition(out.condition, join(at, 'condition'))
    const from = ids[i]
    if (when === null || from === undefined) return
    if (when.value === 'success') add(target, from, at)
    else add(target, { step: from, when: when.value }, at, when.at)
  }

  /** A long-form condition → a `when` value, with where it was written; null when unreadable. */
  #condition(c: unknown, at: string): { value: string; at: string } | null {
    if (c === undefined || c === null) return { value: 'success', at }
    if (typeof c === 'string') return { value: String(stripWholeTemplate(c)), at }
    if (!isPlainObject(c)) {
      this.#report(
        at,
        'a connection condition must be `{type: success | failure | always | expression, expression}`',
      )
      return null
    }
    for (const key of Object.keys(c)) {
      if (key !== 'type' && key !== 'expression') {
        this.#report(join(at, key), unknownKey(key, 'connection condition', ['type', 'expression']), 'key')
      }
    }
    const type = c.type ?? (c.expression !== undefined ? 'expression' : undefined)
    if (type === 'success' || type === 'failure' || type === 'always')
      return { value: type, at: join(at, 'type') }
    if (type === 'expression') {
      if (typeof c.expression !== 'string' || c.expression.trim() === '') {
        this.#report(at, 'a condition of type `expression` needs an `expression` (CEL)')
        return null
      }
      return { value: String(stripWholeTemplate(c.expression)), at: join(at, 'expression') }
    }
    this.#report(
      join(at, 'type'),
      `unknown condition type \`${show(type)}\`${typeof type === 'string' ? didYouMean(type, ['success', 'failure', 'always', 'expression']) : ''} (use success, failure, always or expression)`,
    )
    return null
  }
}
