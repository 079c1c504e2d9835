import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Webhook } from 'standardwebhooks'
import {
  bytes,
  githubHeaders,
  hookProject,
  hookServer,
  send,
  standardHeaders,
  whsec,
  type HookServer,
} from './webhook-harness.ts'

/**
 * The signature corpus: every case is one real HTTP request to 127.0.0.1 through the webhook trigger
 * and the mesh ingest, asserting the status a sender sees, the refusal `reason`, and whether a run was
 * queued. The trigger's clock is fixed at NOW so the ±300 s window is tested at its exact edges.
 */
const NOW_S = 1_750_000_000
const NOW_MS = NOW_S * 1000 + 400
const K = whsec('deploy-key')
const WRONG = whsec('somebody-else')
const NEW = whsec('rotation-new')
const OLD = whsec('rotation-old')
const RETIRED = whsec('rotation-retired')
const GH_SECRET = 'gh-webhook-secret-0123456789'

const steps = `steps:
  - { id: a, uses: data.set, with: { got: "{{ event.data.body }}" } }
`
const project = hookProject({
  'deploy.yaml': `id: deploy\ntriggers: [{ type: webhook, path: deploy, secret: "${K.secret}" }]\n${steps}`,
  'rotated.yaml': `id: rotated\ntriggers:\n  - type: webhook\n    path: team/rotated\n    secrets: ["${NEW.secret}", "${OLD.secret}"]\n${steps}`,
  'github.yaml': `id: github\ntriggers: [{ type: webhook, id: gh, path: github/push, signature: github, secret: "${GH_SECRET}" }]\n${steps}`,
  'open.yaml': `id: open\ntriggers: [{ type: webhook, path: open, signature: none }]\n${steps}`,
  'stored.yaml': `id: stored\ntriggers: [{ type: webhook, path: stored, secret: "{{ secrets.HOOK_KEY }}" }]\n${steps}`,
  'dangling.yaml': `id: dangling\ntriggers: [{ type: webhook, path: dangling, secret: "{{ secrets.NOT_SET }}" }]\n${steps}`,
  'unsigned.yaml': `id: unsigned\ntriggers: [{ type: webhook, path: unsigned }]\n${steps}`,
  'weak.yaml': `id: weak\ntriggers: [{ type: webhook, path: weak, secret: s3cret }]\n${steps}`,
  'off.yaml': `id: off\nenabled: false\ntriggers: [{ type: webhook, path: off, secret: "${K.secret}" }]\n${steps}`,
  'trigger-off.yaml': `id: trigger_off\ntriggers: [{ type: webhook, path: trigger-off, enabled: false, secret: "${K.secret}" }]\n${steps}`,
  'twin-a.yaml': `id: twin_a\ntriggers: [{ type: webhook, path: twin, secret: "${K.secret}" }]\n${steps}`,
  'twin-b.yaml': `id: twin_b\ntriggers: [{ type: webhook, path: /hooks/twin, secret: "${K.secret}" }]\n${steps}`,
})

const server: HookServer = await hookServer(project, {
  now: () => NOW_MS,
  secrets: { HOOK_KEY: whsec('from-the-store').secret },
  bodyBytes: 64 * 1024,
})
after(() => server.close())

interface Case {
  name: string
  path?: string
  body?: Uint8Array | string
  contentType?: string
  headers: Record<string, string>
  status: number
  reason?: string
  /** Whether the request queues a run. */
  run: boolean
}

const BODY = '{"service":"api","version":"1.4.2"}'
let n = 0
const nextId = (): string => `msg_${(++n).toString().padStart(4, '0')}`
const std = (
  body: Uint8Array | string = BODY,
  options: { id?: string; ts?: number | string; keys?: Uint8Array[] } = {},
): Record<string, string> =>
  standardHeaders(options.id ?? nextId(), options.ts ?? NOW_S, body, options.keys ?? [K.key])
const without = (headers: Record<string, string>, ...names: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k)))
const withHeader = (
  headers: Record<string, string>,
  name: string,
  value: string,
): Record<string, string> => ({
  ...headers,
  [name]: value,
})
/** Flips one bit of the first character of the base64 value (a still-valid base64 character). */
const flipSignature = (headers: Record<string, string>): Record<string, string> => {
  const [version, value] = headers['webhook-signature']!.split(',') as [string, string]
  const flipped = String.fromCharCode(value.charCodeAt(0) ^ 1) + value.slice(1)
  return withHeader(headers, 'webhook-signature', `${version},${flipped}`)
}
const flipBody = (body: string): Uint8Array => {
  const b = bytes(body)
  b[5] = b[5]! ^ 0x01
  return b
}
const replayed = std(BODY, { id: 'msg_replayed' })
const ghReplayed = githubHeaders('8a4c0e1e-0001-11f0-8000-000000000001', BODY, GH_SECRET)
const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x7f])
const packageSigned = ((): Record<string, string> => {
  // the reference implementation signs; homeostat verifies
  const signature = new Webhook(K.secret).sign('msg_from_package', new Date(NOW_S * 1000), BODY)
  return {
    'webhook-id': 'msg_from_package',
    'webhook-timestamp': String(NOW_S),
    'webhook-signature': signature,
  }
})()

// one line per case: the corpus reads as a table
// prettier-ignore
const CASES: Case[] = [
  // valid requests, bodies of every kind
  { name: 'valid: JSON body', headers: std(), status: 202, run: true },
  { name: 'valid: signed by the standardwebhooks package', headers: packageSigned, status: 202, run: true },
  { name: 'valid: empty body', body: '', headers: std(''), status: 202, run: true },
  { name: 'valid: non-JSON text body', body: 'deploy api now', contentType: 'text/plain', headers: std('deploy api now'), status: 202, run: true },
  { name: 'valid: form body', body: 'service=api&tag=v2', contentType: 'application/x-www-form-urlencoded', headers: std('service=api&tag=v2'), status: 202, run: true },
  { name: 'valid: binary body (kept as base64)', body: binary, contentType: 'application/octet-stream', headers: std(binary), status: 202, run: true },
  { name: 'signed but declared JSON and not JSON', body: 'not json', headers: std('not json'), status: 400, run: false },
  { name: 'signed but JSON nested deeper than the limit', body: '['.repeat(40) + ']'.repeat(40), headers: std('['.repeat(40) + ']'.repeat(40)), status: 400, run: false },
  // tampering
  { name: 'flipped bit in the signature', headers: flipSignature(std()), status: 401, reason: 'no_match', run: false },
  { name: 'flipped bit in the body', body: flipBody(BODY), headers: std(), status: 401, reason: 'no_match', run: false },
  { name: 'JSON body re-serialised after signing', body: JSON.stringify(JSON.parse(BODY), null, 1), headers: std(), status: 401, reason: 'no_match', run: false },
  { name: 'webhook-id changed after signing', headers: withHeader(std(BODY, { id: 'msg_orig' }), 'webhook-id', 'msg_orih'), status: 401, reason: 'no_match', run: false },
  { name: 'webhook-timestamp changed after signing', headers: withHeader(std(BODY, { ts: NOW_S }), 'webhook-timestamp', String(NOW_S - 1)), status: 401, reason: 'no_match', run: false },
  { name: 'wrong secret', headers: std(BODY, { keys: [WRONG.key] }), status: 401, reason: 'no_match', run: false },
  // timestamp window
  { name: 'timestamp 299 s old', headers: std(BODY, { ts: NOW_S - 299 }), status: 202, run: true },
  { name: 'timestamp exactly 300 s old', headers: std(BODY, { ts: NOW_S - 300 }), status: 202, run: true },
  { name: 'timestamp 301 s old', headers: std(BODY, { ts: NOW_S - 301 }), status: 401, reason: 'timestamp_expired', run: false },
  { name: 'timestamp a day old', headers: std(BODY, { ts: NOW_S - 86_400 }), status: 401, reason: 'timestamp_expired', run: false },
  { name: 'timestamp exactly 300 s ahead', headers: std(BODY, { ts: NOW_S + 300 }), status: 202, run: true },
  { name: 'timestamp 301 s ahead', headers: std(BODY, { ts: NOW_S + 301 }), status: 401, reason: 'timestamp_future', run: false },
  { name: 'timestamp in milliseconds', headers: std(BODY, { ts: NOW_S * 1000 }), status: 401, reason: 'timestamp_future', run: false },
  { name: 'timestamp not a number', headers: std(BODY, { ts: 'yesterday' }), status: 401, reason: 'malformed_header', run: false },
  { name: 'timestamp with a fraction', headers: std(BODY, { ts: `${NOW_S}.5` }), status: 401, reason: 'malformed_header', run: false },
  { name: 'timestamp with trailing letters', headers: std(BODY, { ts: `${NOW_S}abc` }), status: 401, reason: 'malformed_header', run: false },
  // missing and malformed headers
  { name: 'missing webhook-id', headers: without(std(), 'webhook-id'), status: 401, reason: 'missing_header', run: false },
  { name: 'missing webhook-timestamp', headers: without(std(), 'webhook-timestamp'), status: 401, reason: 'missing_header', run: false },
  { name: 'missing webhook-signature', headers: without(std(), 'webhook-signature'), status: 401, reason: 'missing_header', run: false },
  { name: 'no signature headers at all', headers: {}, status: 401, reason: 'missing_header', run: false },
  { name: 'webhook-id longer than 256 characters', headers: std(BODY, { id: 'm'.repeat(257) }), status: 401, reason: 'malformed_header', run: false },
  { name: 'signature without a version', headers: withHeader(std(), 'webhook-signature', 'c2lnbmF0dXJl'), status: 401, reason: 'malformed_header', run: false },
  { name: 'signature `v1,` with no value', headers: withHeader(std(), 'webhook-signature', 'v1,'), status: 401, reason: 'no_match', run: false },
  { name: 'signature truncated', headers: ((h) => withHeader(h, 'webhook-signature', h['webhook-signature']!.slice(0, -4)))(std()), status: 401, reason: 'no_match', run: false },
  { name: 'signature as hex instead of base64', headers: withHeader(std(), 'webhook-signature', `v1,${'ab'.repeat(32)}`), status: 401, reason: 'no_match', run: false },
  // several signatures and versions
  { name: 'two signatures, the second valid', headers: std(BODY, { keys: [WRONG.key, K.key] }), status: 202, run: true },
  { name: 'two signatures, none valid', headers: std(BODY, { keys: [WRONG.key, OLD.key] }), status: 401, reason: 'no_match', run: false },
  { name: 'v1a entry then a valid v1', headers: ((h) => withHeader(h, 'webhook-signature', `v1a,${'A'.repeat(86)}== ${h['webhook-signature']}`))(std()), status: 202, run: true },
  { name: 'only v1a (ed25519) signatures', headers: withHeader(std(), 'webhook-signature', `v1a,${'A'.repeat(86)}==`), status: 401, reason: 'unsupported_version', run: false },
  { name: 'only an unknown version v2', headers: ((h) => withHeader(h, 'webhook-signature', h['webhook-signature']!.replace('v1,', 'v2,')))(std()), status: 401, reason: 'unsupported_version', run: false },
  { name: 'valid signature among extra spaces', headers: ((h) => withHeader(h, 'webhook-signature', `  ${h['webhook-signature']}   v1,${'B'.repeat(43)}=`))(std()), status: 202, run: true },
  // rotated secrets on the receiving side
  { name: 'rotated: signed with the new secret', path: 'team/rotated', headers: std(BODY, { keys: [NEW.key] }), status: 202, run: true },
  { name: 'rotated: signed with the old secret', path: 'team/rotated', headers: std(BODY, { keys: [OLD.key] }), status: 202, run: true },
  { name: 'rotated: signed with a retired secret', path: 'team/rotated', headers: std(BODY, { keys: [RETIRED.key] }), status: 401, reason: 'no_match', run: false },
  // replays
  { name: 'replay: first delivery', headers: replayed, status: 202, run: true },
  { name: 'replay: the same request again', headers: replayed, status: 200, run: false },
  { name: 'replay: same webhook-id, fresh timestamp and signature', headers: std(BODY, { id: 'msg_replayed', ts: NOW_S - 10 }), status: 200, run: false },
  { name: 'replay: same webhook-id at another trigger is its own event', path: 'team/rotated', headers: std(BODY, { id: 'msg_replayed', keys: [NEW.key] }), status: 202, run: true },
  // GitHub
  { name: 'github: valid', path: 'github/push', headers: githubHeaders('8a4c0e1e-0000-11f0-8000-000000000001', BODY, GH_SECRET), status: 202, run: true },
  { name: 'github: upper-case hex', path: 'github/push', headers: ((h) => withHeader(h, 'x-hub-signature-256', h['x-hub-signature-256']!.replace(/[0-9a-f]{64}/, (x) => x.toUpperCase())))(githubHeaders('8a4c0e1e-0000-11f0-8000-000000000002', BODY, GH_SECRET)), status: 202, run: true },
  { name: 'github: wrong secret', path: 'github/push', headers: githubHeaders('8a4c0e1e-0000-11f0-8000-000000000003', BODY, 'not-the-secret'), status: 401, reason: 'no_match', run: false },
  { name: 'github: flipped bit in the body', path: 'github/push', body: flipBody(BODY), headers: githubHeaders('8a4c0e1e-0000-11f0-8000-000000000004', BODY, GH_SECRET), status: 401, reason: 'no_match', run: false },
  { name: 'github: missing X-Hub-Signature-256', path: 'github/push', headers: without(githubHeaders('8a4c0e1e-0000-11f0-8000-000000000005', BODY, GH_SECRET), 'x-hub-signature-256'), status: 401, reason: 'missing_header', run: false },
  { name: 'github: only the SHA-1 X-Hub-Signature', path: 'github/push', headers: { 'x-github-delivery': '8a4c0e1e-0000-11f0-8000-000000000006', 'x-hub-signature': `sha1=${'0'.repeat(40)}` }, status: 401, reason: 'unsupported_version', run: false },
  { name: 'github: signature without the sha256= prefix', path: 'github/push', headers: ((h) => withHeader(h, 'x-hub-signature-256', h['x-hub-signature-256']!.slice(7)))(githubHeaders('8a4c0e1e-0000-11f0-8000-000000000007', BODY, GH_SECRET)), status: 401, reason: 'malformed_header', run: false },
  { name: 'github: missing X-GitHub-Delivery', path: 'github/push', headers: without(githubHeaders('x', BODY, GH_SECRET), 'x-github-delivery'), status: 401, reason: 'missing_header', run: false },
  { name: 'github: first delivery', path: 'github/push', headers: ghReplayed, status: 202, run: true },
  { name: 'github: redelivery of the same id', path: 'github/push', headers: ghReplayed, status: 200, run: false },
  { name: 'github: Standard Webhooks headers sent to a github trigger', path: 'github/push', headers: std(), status: 401, reason: 'missing_header', run: false },
  { name: 'standard trigger called with GitHub headers', headers: githubHeaders('8a4c0e1e-0000-11f0-8000-000000000008', BODY, GH_SECRET), status: 401, reason: 'missing_header', run: false },
  // configuration
  { name: 'signature: none accepts an unsigned call', path: 'open', headers: {}, status: 202, run: true },
  { name: 'secret read from the secret store', path: 'stored', headers: std(BODY, { keys: [whsec('from-the-store').key] }), status: 202, run: true },
  { name: 'secret store reference that is not set', path: 'dangling', headers: std(), status: 500, run: false },
  { name: 'no secret and no `signature: none`', path: 'unsigned', headers: {}, status: 500, run: false },
  { name: 'a secret that is not whsec_ base64', path: 'weak', headers: std(), status: 500, run: false },
  { name: 'one path claimed by two triggers', path: 'twin', headers: std(), status: 500, run: false },
  { name: 'unknown path', path: 'nowhere', headers: std(), status: 404, run: false },
  { name: 'disabled workflow, valid signature', path: 'off', headers: std(), status: 409, run: false },
  { name: 'disabled workflow, invalid signature', path: 'off', headers: std(BODY, { keys: [WRONG.key] }), status: 401, reason: 'no_match', run: false },
  { name: 'disabled trigger, valid signature', path: 'trigger-off', headers: std(), status: 409, run: false },
  { name: 'body over the size limit', body: 'x'.repeat(64 * 1024 + 1), headers: std('x'.repeat(64 * 1024 + 1)), status: 413, run: false },
]

/** The workflow whose trigger owns each path (targeted routing starts that one only). */
const WORKFLOW_OF: Record<string, string> = {
  deploy: 'deploy',
  'team/rotated': 'rotated',
  'github/push': 'github',
  open: 'open',
  stored: 'stored',
}

test(`the signature corpus: ${CASES.length} requests, each with its status and whether a run started`, async () => {
  assert.ok(CASES.length >= 40)
  const failures: string[] = []
  for (const c of CASES) {
    const before = await server.runCount()
    const res = await send(server.url, c.path ?? 'deploy', {
      body: c.body ?? BODY,
      headers: { ...(c.contentType ? { 'content-type': c.contentType } : {}), ...c.headers },
    })
    const started = (await server.runCount()) - before
    const problems: string[] = []
    if (res.status !== c.status) problems.push(`status ${res.status}, expected ${c.status}`)
    if (c.reason !== undefined && res.json.reason !== c.reason)
      problems.push(`reason ${String(res.json.reason)}, expected ${c.reason}`)
    if (started !== (c.run ? 1 : 0)) problems.push(`${started} run(s) started, expected ${c.run ? 1 : 0}`)
    const runs = (res.json.runs as string[] | undefined) ?? []
    if (c.run && runs.length !== 1) problems.push('the answer names no run')
    const owner = c.run ? (await server.app.store.getRun(runs[0] ?? ''))?.workflowId : undefined
    if (c.run && owner !== WORKFLOW_OF[c.path ?? 'deploy'])
      problems.push(`the run is of ${owner}, expected ${WORKFLOW_OF[c.path ?? 'deploy']}`)
    if (res.status >= 400 && !String(res.headers.get('content-type')).startsWith('application/problem+json'))
      problems.push(`a ${res.status} is not problem JSON`)
    if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')} — ${JSON.stringify(res.json)}`)
  }
  assert.deepEqual(failures, [])
})
