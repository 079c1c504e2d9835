import { parent } from './json-pointer.ts'

/** Canonical pointer → pointer into the document as written. */
export class Origins {
  readonly #map = new Map<string, string>()

  set(canonical: string, written: string): void {
    this.#map.set(canonical, written)
  }

  /** Written pointer of a canonical one: the longest mapped prefix, with the rest appended. */
  resolve(pointer: string): string {
    let prefix = pointer
    for (;;) {
      const hit = this.#map.get(prefix)
      if (hit !== undefined) return hit + pointer.slice(prefix.length)
      if (prefix === '') return pointer
      prefix = parent(prefix)
    }
  }
}

/** How the long-form readers report a problem: a pointer into the document as written. */
export type ReportIssue = (pointer: string, message: string, at?: 'key' | 'value') => void

/** What the long-form readers share with the normaliser. */
export interface LongFormContext {
  origins: Origins
  issue: ReportIssue
}
