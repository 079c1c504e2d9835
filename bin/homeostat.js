#!/usr/bin/env node
// Entry point: refuse to run on anything but Node 24+, then hand over to the TypeScript CLI,
// which Node 24 runs directly (type stripping).
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(
    `homeostat: Node 24 needed (this is ${process.version}): run \`npm install\` in the project, ` +
      'then use `npx homeostat` (or install Node 24)\n',
  )
  process.exit(2)
}
await import('../src/cli/main.ts')
