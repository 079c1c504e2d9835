import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli } from '../helpers/cli.ts'
import { serveProject, settledRuns, triggerProject } from './trigger-project.ts'

const DEPLOY = `id: deploy
triggers:
  - type: manual
    description: run by hand with the environment to deploy to
inputs:
  env: { type: string, enum: [staging, prod], description: where to deploy }
  replicas: { type: integer, minimum: 1, default: 2 }
steps:
  - id: plan
    uses: data.set
    with: { env: "{{ inputs.env }}", replicas: "{{ inputs.replicas }}" }
`

test(
  'a manual run through the API: inputs are checked against the declared inputs, defaults applied',
  { timeout: 30_000 },
  async () => {
    const project = triggerProject({ 'deploy.yaml': DEPLOY })
    const { app, server } = await serveProject(project)
    const execute = async (inputs: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${server.url}/api/workflows/deploy/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    try {
      const refused: Array<[unknown, RegExp]> = [
        [{ env: 'qa' }, /\/inputs\/env must be one of "staging", "prod" \(got "qa"\)/],
        [{}, /\/inputs\/env is required/],
        [{ env: 'prod', replicas: 0 }, /\/inputs\/replicas must be >= 1/],
        [{ env: 'prod', region: 'eu' }, /\/inputs\/region is not allowed/],
      ]
      for (const [inputs, message] of refused) {
        const { status, body } = await execute(inputs)
        assert.equal(status, 400, JSON.stringify(body))
        assert.equal(body.code, 'HS_ERR_INPUT_INVALID')
        assert.match(String(body.detail), message)
        assert.match(String(body.detail), /declared inputs: env, replicas/)
      }
      assert.equal(
        (await app.store.listRuns({ workflowId: 'deploy', limit: 10 })).length,
        0,
        'no run for bad inputs',
      )
      const ok = await execute({ env: 'prod' })
      assert.equal(ok.status, 202)
      const [run] = await settledRuns(app, 'deploy', 1)
      assert.equal(run!.id, ok.body.runId)
      assert.deepEqual(run!.inputs, { env: 'prod', replicas: 2 })
      assert.deepEqual(run!.output, { env: 'prod', replicas: 2 })
      assert.deepEqual(run!.trigger, { type: 'manual', source: 'api' })
    } finally {
      await server.stop()
    }
  },
)

test(
  'a manual run from the CLI: the same checks, values from --input coerced to the declared types',
  { timeout: 60_000 },
  async () => {
    const project = triggerProject({ 'deploy.yaml': DEPLOY })
    const bad = await runCli(['run', 'deploy', '--input', 'env=qa'], project.dir)
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /HS_ERR_INPUT_INVALID|inputs of deploy/)
    assert.match(bad.stderr, /\/inputs\/env must be one of "staging", "prod" \(got "qa"\)/)
    const good = await runCli(
      ['run', 'deploy', '--input', 'env=staging', '--input', 'replicas=3', '--wait', '--json'],
      project.dir,
    )
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /"replicas": ?3/)
    assert.match(good.stdout, /"env": ?"staging"/)
  },
)
