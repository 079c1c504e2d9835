/**
 * The file, shell and git actions inside real runs: the engine renders templates from earlier
 * outputs, applies schema defaults, records outputs, and records a refusal as a non-retryable
 * failure with its code (a retry policy does not try it again).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { builtinActions } from '../../../src/actions/builtin-actions.ts'
import { harness } from '../../helpers/engine-harness.ts'
import { AUTHOR, gitFixture } from './git-fixture.ts'

test('write a file, commit it, read the log, run a command: outputs flow from step to step', async () => {
  const g = gitFixture()
  const actions = builtinActions({
    files: { roots: [g.root], maxBytes: 1024 * 1024 },
    env: { PATH: process.env.PATH, HOME: g.base },
  })
  const h = await harness({ actions })
  await h.deploy({
    id: 'docs_update',
    steps: [
      {
        id: 'write',
        uses: 'file.write',
        with: { path: 'repo/NOTES.md', content: 'notes for {{ run.workflow }}\n' },
      },
      {
        id: 'commit',
        needs: ['write'],
        uses: 'git.commit',
        with: {
          ...AUTHOR,
          repo: 'repo',
          message: 'docs: {{ steps.write.output.bytes }} bytes',
          files: ['NOTES.md'],
        },
      },
      { id: 'log', needs: ['commit'], uses: 'git.log', with: { repo: 'repo', max_count: 1 } },
      {
        id: 'show',
        needs: ['log'],
        uses: 'shell.exec',
        with: {
          command: 'git',
          args: ['show', '--stat', '--format=%s', '{{ steps.commit.output.hash }}'],
          cwd: 'repo',
        },
      },
    ],
  })
  const run = await h.settled(await h.start('docs_update'))
  assert.equal(run.status, 'succeeded')
  assert.equal(readFileSync(join(g.repo, 'NOTES.md'), 'utf8'), 'notes for docs_update\n')
  const byStep = Object.fromEntries(
    (await h.attempts(run.id)).map((a) => [a.stepId, a.output as Record<string, unknown>]),
  )
  assert.equal(byStep.commit!.subject, 'docs: 22 bytes')
  assert.equal((byStep.log!.commits as { hash: string }[])[0]!.hash, byStep.commit!.hash)
  assert.match(byStep.show!.stdout as string, /^docs: 22 bytes\n\n NOTES\.md \| 1 \+/)
})

test('a path outside the roots fails the step once, with its code, whatever the retry policy', async () => {
  const g = gitFixture()
  const actions = builtinActions({ files: { roots: [g.root], maxBytes: 1024 }, env: {} })
  const h = await harness({ actions })
  await h.deploy({
    id: 'escape',
    steps: [
      {
        id: 'steal',
        uses: 'file.read',
        with: { path: '../outside/x' },
        retry: { attempts: 3, backoff: 'fixed', delay: '10ms' },
      },
    ],
  })
  const run = await h.settled(await h.start('escape'))
  assert.equal(run.status, 'failed')
  const attempts = await h.attempts(run.id)
  assert.equal(attempts.length, 1)
  assert.equal(attempts[0]!.error?.code, 'HS_ERR_PATH_REFUSED')
  assert.equal(attempts[0]!.error?.retryable, false)
  assert.match(attempts[0]!.error!.message, /"\.\.\/outside\/x" is outside the file roots/)
})
