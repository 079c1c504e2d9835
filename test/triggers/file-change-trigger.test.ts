import assert from 'node:assert/strict'
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { mergeFileEvents } from '../../src/triggers/file-change-trigger.ts'
import { tempDir } from '../helpers/tmp.ts'
import { pause, runsOf, serveProject, settledRuns, triggerProject, waitFor } from './trigger-project.ts'

/** A review workflow in the spirit of the source document: reads the changed file. */
const REVIEW = (extra = '', events = '[add, change, unlink]') => `id: review
triggers:
  - type: file_change
    id: sources
    paths: ['src/**/*.{ts,js,tsx,jsx}']
    events: ${events}
    debounce: 150ms
${extra}
steps:
  - id: note
    uses: data.set
    with:
      path: "{{ trigger.filePath }}"
      absolute: "{{ trigger.absolutePath }}"
      event: "{{ trigger.event }}"
`

test(
  'a burst of writes to one file starts one run, with trigger.filePath (relative and absolute) and trigger.event',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({ 'review.yaml': REVIEW() })
    mkdirSync(join(project.dir, 'src', 'lib'))
    writeFileSync(join(project.dir, 'src', 'lib', 'a.ts'), 'export const a = 0\n')
    const { app, server } = await serveProject(project)
    try {
      const file = join(project.dir, 'src', 'lib', 'a.ts')
      // an editor's save: several writes within the debounce window
      for (let i = 1; i <= 6; i++) {
        await writeFile(file, `export const a = ${i}\n`)
        await pause(15)
      }
      const [run] = await settledRuns(app, 'review', 1)
      await pause(500)
      assert.equal((await runsOf(app, 'review')).length, 1, 'one run for the burst')
      assert.deepEqual(run!.output, { path: 'src/lib/a.ts', absolute: file, event: 'change' })
      assert.equal(run!.trigger.eventType, 'file.changed')
      assert.equal(run!.trigger.triggerId, 'sources')
      // another file, later: its own run
      writeFileSync(join(project.dir, 'src', 'b.tsx'), 'x')
      const runs = await settledRuns(app, 'review', 2)
      assert.deepEqual(runs[1]!.output, {
        path: 'src/b.tsx',
        absolute: join(project.dir, 'src', 'b.tsx'),
        event: 'add',
      })
      // deleting it
      unlinkSync(join(project.dir, 'src', 'b.tsx'))
      const after = await settledRuns(app, 'review', 3)
      assert.equal((after[2]!.output as { event: string }).event, 'unlink')
    } finally {
      await server.stop()
    }
  },
)

test(
  'files outside the globs, ignored patterns and dotfiles start nothing; events not listed are not reported',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({
      'review.yaml': REVIEW(`    ignore: ['src/generated/**', '**/*.test.ts']`, '[add, change]'),
      'dots.yaml': `id: dots
triggers:
  - type: file_change
    paths: ['src/**/*']
    ignore_dotfiles: false
    debounce: 100ms
steps:
  - id: note
    uses: data.set
    with: { path: "{{ trigger.filePath }}" }
`,
    })
    mkdirSync(join(project.dir, 'src', 'generated'))
    writeFileSync(join(project.dir, 'src', 'keep.ts'), 'x')
    const { app, server } = await serveProject(project)
    try {
      writeFileSync(join(project.dir, 'src', 'notes.md'), 'not a source file')
      writeFileSync(join(project.dir, 'src', 'generated', 'api.ts'), 'ignored directory')
      writeFileSync(join(project.dir, 'src', 'a.test.ts'), 'ignored pattern')
      writeFileSync(join(project.dir, 'src', '.hidden.ts'), 'a dotfile')
      mkdirSync(join(project.dir, 'src', '.cache'))
      writeFileSync(join(project.dir, 'src', '.cache', 'x.ts'), 'in a dot directory')
      writeFileSync(join(project.dir, 'other.ts'), 'outside src')
      unlinkSync(join(project.dir, 'src', 'keep.ts')) // unlink is not in `events`
      writeFileSync(join(project.dir, 'src', 'real.js'), 'the only match')
      const [run] = await settledRuns(app, 'review', 1)
      await pause(600)
      assert.deepEqual(
        (await runsOf(app, 'review')).map((r) => (r.output as { path: string }).path),
        ['src/real.js'],
      )
      assert.equal((run!.output as { event: string }).event, 'add')
      // ignore_dotfiles: false reports them (every file under src, dotfiles included)
      const dots = await waitFor(async () => {
        const paths = (await runsOf(app, 'dots')).map((r) => r.trigger.filePath as string).sort()
        return paths.includes('src/.cache/x.ts') && paths.includes('src/.hidden.ts') ? paths : undefined
      }, 'dotfile runs')
      assert.ok(dots.includes('src/notes.md'))
    } finally {
      await server.stop()
    }
  },
)

test(
  'a glob whose directory is outside files.roots is refused with HS_ERR_TRIGGER_SETUP; the other triggers run',
  { timeout: 30_000 },
  async () => {
    const outside = tempDir('homeostat-outside-')
    const project = triggerProject(
      {
        'escape.yaml': `id: escape
triggers:
  - type: file_change
    id: outside
    paths: ['${outside}/**/*.ts']
  - type: file_change
    id: linked
    paths: ['src/link/**/*.ts']
  - type: file_change
    id: inside
    paths: ['src/**/*.ts']
    debounce: 50ms
steps:
  - id: a
    uses: data.set
    with: { path: "{{ trigger.filePath }}" }
`,
      },
      'files: { roots: [src] }',
    )
    symlinkSync(outside, join(project.dir, 'src', 'link'))
    const { app, server } = await serveProject(project)
    try {
      const problems = server.triggers.problems()
      assert.deepEqual(problems.map((p) => p.triggerId).sort(), ['linked', 'outside'])
      for (const p of problems) assert.match(p.message, /outside files\.roots/)
      assert.deepEqual(
        server.triggers.active().map((a) => a.triggerId),
        ['inside'],
      )
      writeFileSync(join(outside, 'secret.ts'), 'x')
      writeFileSync(join(project.dir, 'src', 'fine.ts'), 'x')
      const [run] = await settledRuns(app, 'escape', 1)
      assert.equal(run!.trigger.filePath, 'src/fine.ts')
      await pause(400)
      assert.equal(
        (await runsOf(app, 'escape')).length,
        1,
        'nothing from outside the roots, even through the symlink',
      )
    } finally {
      await server.stop()
      rmSync(join(project.dir, 'src', 'link'))
    }
  },
)

test('a burst of events on one file merges into what happened to it', () => {
  assert.equal(mergeFileEvents(undefined, 'change'), 'change')
  assert.equal(mergeFileEvents('add', 'change'), 'add')
  assert.equal(mergeFileEvents('add', 'unlink'), undefined)
  assert.equal(mergeFileEvents('unlink', 'add'), 'change')
  assert.equal(mergeFileEvents('change', 'unlink'), 'unlink')
  assert.equal(mergeFileEvents('change', 'change'), 'change')
})

test(
  'a watched directory that does not exist yet is picked up when it is created',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({
      'later.yaml': `id: later
triggers:
  - type: file_change
    paths: ['generated/docs/**/*.md']
    debounce: 50ms
steps:
  - id: a
    uses: data.set
    with: { path: "{{ trigger.filePath }}" }
`,
    })
    const { app, server } = await serveProject(project)
    try {
      assert.deepEqual(server.triggers.problems(), [])
      mkdirSync(join(project.dir, 'generated', 'docs', 'api'), { recursive: true })
      await pause(200) // the new directories are watched once chokidar has seen them
      writeFileSync(join(project.dir, 'generated', 'docs', 'api', 'index.md'), '# api')
      writeFileSync(join(project.dir, 'generated', 'other.md'), 'not under the glob')
      const [run] = await settledRuns(app, 'later', 1)
      assert.equal(run!.trigger.filePath, 'generated/docs/api/index.md')
      await pause(300)
      assert.equal((await runsOf(app, 'later')).length, 1)
    } finally {
      await server.stop()
    }
  },
)
