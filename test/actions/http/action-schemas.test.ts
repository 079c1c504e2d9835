import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { DEFAULT_ACTION_SERVICES } from '../../../src/actions/action-services.ts'
import { aiActions } from '../../../src/actions/ai-actions.ts'
import { builtinActions } from '../../../src/actions/builtin-actions.ts'
import { httpActions } from '../../../src/actions/http-actions.ts'
import { notifyActions } from '../../../src/actions/notify-actions.ts'
import { resolveConfig } from '../../../src/cli/config.ts'
import { newAjv } from '../../../src/core/ajv-messages.ts'
import { compileDestinationPolicy } from '../../../src/core/destination-policy.ts'
import { tempDir } from '../../helpers/tmp.ts'

const ACTIONS = [
  ...httpActions(DEFAULT_ACTION_SERVICES),
  ...aiActions(DEFAULT_ACTION_SERVICES),
  ...notifyActions(DEFAULT_ACTION_SERVICES),
]

/** Properties of a schema without a description, as JSON pointers. */
function undescribed(schema: unknown, at = ''): string[] {
  const s = schema as { properties?: Record<string, Record<string, unknown>> }
  if (!s || typeof s !== 'object' || !s.properties) return []
  return Object.entries(s.properties).flatMap(([name, prop]) => [
    ...(typeof prop.description === 'string' && prop.description !== '' ? [] : [`${at}/${name}`]),
    ...undescribed(prop, `${at}/${name}`),
  ])
}

describe('http, ai and notify action definitions', () => {
  test('the catalogue registers all five', () => {
    const types = builtinActions()
      .list()
      .map((a) => a.type)
    for (const t of ['http.request', 'ai.generate', 'ai.analyze', 'notify.slack', 'notify.email'])
      assert.ok(types.includes(t), t)
  })
  for (const action of ACTIONS) {
    test(`${action.type}: strict-valid schemas, closed params, every property described, a plan`, () => {
      const ajv = newAjv({ strict: true })
      ajv.compile(action.params)
      ajv.compile(action.output!)
      assert.equal((action.params as { additionalProperties?: unknown }).additionalProperties, false)
      assert.deepEqual(undescribed(action.params), [])
      assert.deepEqual(undescribed(action.output), [])
      assert.equal(action.sideEffects, true)
      assert.equal(typeof action.plan, 'function')
    })
  }
})

describe('destination lists in homeostat.yaml', () => {
  const load = (yaml: string) => {
    const dir = tempDir()
    writeFileSync(join(dir, 'homeostat.yaml'), yaml)
    return resolveConfig({}, {}, dir)
  }

  test('valid entries are kept as written', () => {
    const config = load(
      'http:\n  allow: ["127.0.0.1:11434", "10.0.0.0/8", "*.lan", "[::1]:8080"]\n  deny: ["evil.example"]\n',
    )
    assert.deepEqual(config.http.allow, ['127.0.0.1:11434', '10.0.0.0/8', '*.lan', '[::1]:8080'])
    assert.equal(compileDestinationPolicy(config.http).allow.length, 4)
  })

  for (const [entry, why] of [
    ['10.0.0.0/33', /not a valid CIDR/],
    ['1.2.3.4.5', /looks like an IPv4 address but is not a valid one/],
    ['exa mple.com', /not a host name, IP or CIDR/],
    ['127.0.0.1:99999', /port 99999 is not 1-65535/],
  ] as const) {
    test(`a bad entry fails at start-up: ${entry}`, () => {
      assert.throws(
        () => load(`http:\n  allow: ["ok.example", ${JSON.stringify(entry)}]\n`),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'HS_ERR_CONFIG_INVALID')
          assert.match(err.message, /http\.allow\[1\]/)
          assert.match(err.message, why)
          return true
        },
      )
    })
  }

  test('notify.email: starttls is checked and ca_file is relative to the config file', () => {
    const config = load(
      'notify:\n  email:\n    host: smtp.example.com\n    starttls: required\n    tls: { ca_file: certs/ca.pem }\n',
    )
    assert.equal(config.notify.email?.starttls, 'required')
    assert.equal(config.notify.email?.tls?.ca_file, join(config.baseDir, 'certs', 'ca.pem'))
    assert.throws(
      () => load('notify:\n  email:\n    starttls: maybe\n'),
      /notify.email.starttls: must be auto, required or off/,
    )
  })
})
