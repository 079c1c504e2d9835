import { watch } from 'chokidar'
import { realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { parseDuration } from '../core/duration.ts'
import { HsError } from '../core/errors.ts'
import type { TriggerSourceDefinition } from '../core/trigger-port.ts'
import type { TriggerSpec } from '../core/workflow.ts'
import { FILE_EVENTS, TRIGGER_TYPES } from '../core/workflow-schema.ts'
import { compileGlobs, globProblem } from './file-globs.ts'

/**
 * The `file_change` trigger source: chokidar on the base directory of each glob (inside
 * `files.roots`), events matched with `path.matchesGlob`, and a debounce per file so an editor's save
 * burst (write, rename, chmod) becomes one event. Emits `file.changed` with `event`
 * (add|change|unlink|addDir|unlinkDir), `file_path` (relative to the base directory, `/`-separated)
 * and `absolute_path`; runs read them as `trigger.event`, `trigger.filePath`, `trigger.absolutePath`.
 */

export interface FileChangeTrigger extends TriggerSpec {
  type: 'file_change'
  paths: string[]
  events?: Array<(typeof FILE_EVENTS)[number]>
  ignore?: string[]
  ignore_dotfiles?: boolean
  debounce?: string | number
}

/** Default quiet time per file before its change is reported. */
export const DEFAULT_DEBOUNCE_MS = 250

const DEFAULT_EVENTS = ['add', 'change', 'unlink'] as const

type FileEvent = (typeof FILE_EVENTS)[number]

/**
 * What a burst of events on one file amounts to: created then changed is still `add`; deleted then
 * re-created (an atomic save) is `change`; created then deleted is nothing at all.
 */
export function mergeFileEvents(first: FileEvent | undefined, next: FileEvent): FileEvent | undefined {
  if (first === undefined) return next
  if (first === 'add' && next === 'change') return 'add'
  if (first === 'add' && next === 'unlink') return undefined
  if (first === 'unlink' && next === 'add') return 'change'
  if (first === 'addDir' && next === 'unlinkDir') return undefined
  return next
}

/** `dir` itself when it exists, else its nearest existing ancestor. */
async function existingAncestor(dir: string): Promise<string> {
  for (let probe = resolve(dir); ; probe = dirname(probe)) {
    try {
      await stat(probe)
      return probe
    } catch {
      if (dirname(probe) === probe) return probe
    }
  }
}

/** Whether `dir` (or, when it does not exist yet, its nearest existing ancestor) is inside a root. */
async function insideRoots(dir: string, roots: readonly string[]): Promise<boolean> {
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => resolve(r))))
  let probe = resolve(dir)
  let rest = ''
  for (;;) {
    try {
      const real = join(await realpath(probe), rest)
      return realRoots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))
    } catch {
      const parent = dirname(probe)
      if (parent === probe) return false
      rest = join(basename(probe), rest)
      probe = parent
    }
  }
}

export function fileChangeTriggerSource(options: {
  /** `files.roots` of the configuration: watched directories must be inside one of them. */
  roots: readonly string[]
}): TriggerSourceDefinition<FileChangeTrigger> {
  return {
    type: 'file_change',
    description: 'Starts the workflow when files matching `paths` are added, changed or deleted.',
    fields: TRIGGER_TYPES.file_change!.fields,
    required: TRIGGER_TYPES.file_change!.required,
    async start(trigger, target, ctx) {
      for (const p of [...trigger.paths, ...(trigger.ignore ?? [])]) {
        const problem = globProblem(p)
        if (problem !== undefined)
          throw new HsError('HS_ERR_TRIGGER_SETUP', `file_change glob \`${p}\` ${problem}`)
      }
      const globs = compileGlobs(
        trigger.paths,
        trigger.ignore ?? [],
        ctx.baseDir,
        trigger.ignore_dotfiles === false,
      )
      for (const base of globs.bases) {
        if (!(await insideRoots(base, options.roots)))
          throw new HsError(
            'HS_ERR_TRIGGER_SETUP',
            `file_change trigger \`${target.triggerId}\` of ${target.workflowId} would watch ${base}, which is outside files.roots (${options.roots.join(', ')}); add it to files.roots or change \`paths\``,
          )
      }
      const wanted = new Set<string>(trigger.events ?? DEFAULT_EVENTS)
      const debounceMs = parseDuration(trigger.debounce ?? DEFAULT_DEBOUNCE_MS) ?? DEFAULT_DEBOUNCE_MS
      const pending = new Map<string, { timer: NodeJS.Timeout; event: FileEvent | undefined }>()
      const report = (path: string, event: FileEvent): void => {
        if (!wanted.has(event)) return
        ctx
          .emit({ event, file_path: globs.relative(path), absolute_path: path })
          .catch((err: unknown) =>
            ctx.logger.error('publishing a file change failed', { path, error: (err as Error).message }),
          )
      }
      // chokidar does not watch a directory that does not exist: watch its nearest existing ancestor
      const watched = [...new Set(await Promise.all(globs.bases.map(existingAncestor)))]
      for (const dir of watched) {
        if (!(await insideRoots(dir, options.roots)))
          throw new HsError(
            'HS_ERR_TRIGGER_SETUP',
            `file_change trigger \`${target.triggerId}\` of ${target.workflowId}: ${globs.bases.join(', ')} does not exist, and its nearest existing directory ${dir} is outside files.roots; create the directory`,
          )
      }
      const watcher = watch(watched, {
        ignoreInitial: true,
        followSymlinks: false,
        ignored: (path: string) => globs.prune(path),
      })
      watcher.on('all', (event, path) => {
        if (!(FILE_EVENTS as readonly string[]).includes(event) || !globs.matches(path)) return
        const before = pending.get(path)
        if (before) clearTimeout(before.timer)
        const merged = mergeFileEvents(before?.event, event as FileEvent)
        const timer = setTimeout(() => {
          pending.delete(path)
          if (merged !== undefined) report(path, merged)
        }, debounceMs)
        pending.set(path, { timer, event: merged })
      })
      watcher.on('error', (err: unknown) =>
        ctx.logger.error('file watcher error', { error: err instanceof Error ? err.message : String(err) }),
      )
      await new Promise<void>((ready) => watcher.once('ready', () => ready()))
      return async () => {
        for (const { timer } of pending.values()) clearTimeout(timer)
        pending.clear()
        await watcher.close()
      }
    },
  }
}
