import { styleText } from 'node:util'
import { formatDuration } from '../core/duration.ts'

type Style = Parameters<typeof styleText>[0]

/** Colours only when stdout is a terminal that wants them (NO_COLOR, FORCE_COLOR respected by styleText). */
export function paint(style: Style, text: string): string {
  return styleText(style, text, { stream: process.stdout })
}

const STATUS_STYLE: Record<string, Style> = {
  succeeded: 'green',
  failed: 'red',
  timed_out: 'red',
  cancelled: 'yellow',
  running: 'cyan',
  queued: 'gray',
  waiting: 'magenta',
  paused: 'yellow',
  skipped: 'gray',
  interrupted: 'yellow',
}

export const STATUS_ICON: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  timed_out: '⏱',
  cancelled: '⊘',
  running: '▶',
  queued: '…',
  waiting: '⏸',
  paused: '⏸',
  skipped: '↷',
  interrupted: '↯',
}

export function status(s: string): string {
  return paint(STATUS_STYLE[s] ?? 'white', s)
}

export function duration(ms: number | undefined): string {
  return ms === undefined ? '-' : formatDuration(ms)
}

export function time(ms: number | undefined): string {
  if (ms === undefined) return '-'
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

/** A short JSON rendering for table cells and step lines. */
export function brief(value: unknown, max = 80): string {
  if (value === undefined) return ''
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g
const width = (s: string): number => Array.from(s.replace(ANSI, '')).length

/** A plain aligned table; cells may contain colour codes. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd()
  return [paint('bold', line(headers)), ...rows.map(line)].join('\n')
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`)
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
