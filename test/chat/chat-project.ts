import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tempDir } from '../helpers/tmp.ts'

export const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples')

/**
 * A project for chat tests: the example `hello` workflow, `announce` (posts to chat with
 * `chat.send`, into the session that started it unless told otherwise), `broken` (fails), and a
 * homeostat.yaml with a fast worker poll.
 */
export function chatProject(extraConfig = ''): { dir: string; config: string } {
  const dir = tempDir('homeostat-chat-')
  mkdirSync(join(dir, 'workflows'))
  copyFileSync(join(EXAMPLES, 'workflows', 'hello.yaml'), join(dir, 'workflows', 'hello.yaml'))
  writeFileSync(
    join(dir, 'workflows', 'announce.yaml'),
    `id: announce
name: Announce
inputs:
  who: { type: string, default: team }
  session: { type: string, default: "" }
steps:
  - id: compose
    uses: data.transform
    with:
      expression: '"Deploy done, " & $who & "!"'
      bindings: { who: "{{ inputs.who }}" }
  - id: post
    needs: [compose]
    uses: chat.send
    if: inputs.session == ""
    with:
      text: "{{ steps.compose.output.result }}"
      attachments:
        - { name: report.md, contentType: text/markdown, text: "# all green" }
  - id: post_elsewhere
    needs: [compose]
    uses: chat.send
    if: inputs.session != ""
    with:
      message: "{{ steps.compose.output.result }}"
      session: "{{ inputs.session }}"
`,
  )
  writeFileSync(
    join(dir, 'workflows', 'broken.yaml'),
    `id: broken
name: Broken
steps:
  - id: boom
    uses: fail
    with: { message: disk full, retryable: false }
`,
  )
  const config = join(dir, 'homeostat.yaml')
  writeFileSync(
    config,
    `store: data/store.db\nworkflows: [workflows]\nworker: { poll: 50ms, grace: 1s }\n${extraConfig}`,
  )
  return { dir, config }
}
