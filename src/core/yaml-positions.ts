import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Document,
  type Node,
} from 'yaml'
import { join, setOwn as define } from './json-pointer.ts'
import { show } from './suggest.ts'

/**
 * Turns YAML (or JSON) text into plain values plus an index from JSON pointer to source position, so
 * every later check can say `file:line:column`. Duplicate keys, non-string keys, alias bombs and
 * excessive nesting are reported here instead of being silently resolved or crashing.
 */

export interface SourcePos {
  /** Character offset into the text. */
  offset: number
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
}

export interface NodeInfo {
  /** Where the value node starts (for a missing value: where its key is). */
  value: SourcePos
  /** Where the key starts, for values held in a mapping. */
  key?: SourcePos
  /** For string scalars: style and the exact source slice, to map offsets inside the string. */
  scalar?: { type: string; source: string; start: number; value: string }
}

export interface YamlProblem {
  pos: SourcePos
  /** The pointer of the node at fault when known (duplicate keys, nesting), else ''. */
  pointer: string
  message: string
}

export interface LoadedDocument {
  value: unknown
  /** Set when the document is empty (only comments or nothing). */
  empty: boolean
  /** Syntax errors: the value is unreliable and should not be validated further. */
  syntaxErrors: YamlProblem[]
  /** Problems in an otherwise readable document (duplicate keys, nesting, aliases). */
  problems: YamlProblem[]
  nodes: Map<string, NodeInfo>
  /** Position of the document's first content node. */
  start: SourcePos
}

export interface LoadLimits {
  /** Deepest nesting of collections (default 64). */
  maxDepth: number
  /** Most nodes visited while expanding aliases (`*name`), against "billion laughs" (default 10,000). */
  maxAliasNodes: number
}

const DEFAULT_LIMITS: LoadLimits = { maxDepth: 64, maxAliasNodes: 10_000 }

export class YamlSource {
  readonly text: string
  readonly #lines: LineCounter

  constructor(text: string, lines: LineCounter) {
    this.text = text
    this.#lines = lines
  }

  pos(offset: number): SourcePos {
    const clamped = Math.max(0, Math.min(offset, this.text.length))
    const { line, col } = this.#lines.linePos(clamped)
    return { offset: clamped, line, column: col }
  }
}

/** Parses every YAML document of `text` (a stream separated by `---` yields several). */
export function loadYaml(
  text: string,
  limits: Partial<LoadLimits> = {},
): { source: YamlSource; documents: LoadedDocument[] } {
  const lines = new LineCounter()
  const source = new YamlSource(text, lines)
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false })
  const documents = [...docs].map((doc) => loadDocument(doc, source, { ...DEFAULT_LIMITS, ...limits }))
  return { source, documents }
}

function loadDocument(doc: Document.Parsed, source: YamlSource, limits: LoadLimits): LoadedDocument {
  const contents = doc.contents as Node | null
  const start = source.pos(contents?.range?.[0] ?? doc.range[0])
  const syntaxErrors: YamlProblem[] = doc.errors.map((e) => syntaxProblem(e, doc, source))
  const walker = new Walker(doc, source, limits)
  const value = contents === null ? null : walker.walk(contents, '', 0, undefined)
  const isEmpty =
    contents === null ||
    (isScalar(contents) && contents.value === null && contents.range?.[0] === contents.range?.[2])
  return { value, empty: isEmpty, syntaxErrors, problems: walker.problems, nodes: walker.nodes, start }
}

function syntaxProblem(
  e: { code: string; message: string; pos: [number, number] },
  doc: Document.Parsed,
  source: YamlSource,
): YamlProblem {
  let offset = e.pos[0]
  let message = e.message
  if (e.code === 'MISSING_CHAR' && /quote/i.test(e.message)) {
    const opened = unclosedQuoteStart(doc.contents as Node | null, offset)
    if (opened !== undefined) {
      offset = opened
      message = 'this quoted string is never closed (missing closing quote)'
    }
  }
  if (/end with an? [\]}]/.test(e.message)) {
    const opened = unclosedFlowStart(doc.contents as Node | null, offset)
    if (opened !== undefined) {
      offset = opened.start
      message = `this flow ${opened.list ? 'list `[` is not closed with `]`' : 'mapping `{` is not closed with `}`'} (${e.message})`
    }
  }
  if (e.code === 'RESOURCE_EXHAUSTION') message = 'the document is nested too deeply to read'
  if (e.code === 'TAB_AS_INDENT') message = 'tabs are not allowed for indentation in YAML; indent with spaces'
  return { pos: source.pos(offset), pointer: '', message: `YAML syntax error: ${message} (${e.code})` }
}

/** Start of the quoted scalar that runs up to `end` (the parser reports the end of the text). */
function unclosedQuoteStart(node: Node | null | undefined, end: number): number | undefined {
  if (!node) return undefined
  if (isScalar(node)) {
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE
    return quoted && node.range && node.range[1] >= end ? node.range[0] : undefined
  }
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      const found = isPair(item)
        ? (unclosedQuoteStart(item.key as Node | null, end) ??
          unclosedQuoteStart(item.value as Node | null, end))
        : unclosedQuoteStart(item as Node, end)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** Innermost flow collection (`[...]`, `{...}`) that starts before `offset` and runs up to it. */
function unclosedFlowStart(
  node: Node | null | undefined,
  offset: number,
): { start: number; list: boolean } | undefined {
  if (!node || !(isMap(node) || isSeq(node))) return undefined
  for (const item of node.items) {
    const children = isPair(item) ? [item.key as Node | null, item.value as Node | null] : [item as Node]
    for (const child of children) {
      const inner = unclosedFlowStart(child, offset)
      if (inner) return inner
    }
  }
  const range = node.range
  if (node.flow && range && range[0] < offset && range[2] >= offset)
    return { start: range[0], list: isSeq(node) }
  return undefined
}

class Walker {
  readonly problems: YamlProblem[] = []
  readonly nodes = new Map<string, NodeInfo>()
  readonly #doc: Document.Parsed
  readonly #source: YamlSource
  readonly #limits: LoadLimits
  #aliasNodes = 0
  #inAlias = 0
  #tooDeep = false
  #tooMany = false

  constructor(doc: Document.Parsed, source: YamlSource, limits: LoadLimits) {
    this.#doc = doc
    this.#source = source
    this.#limits = limits
  }

  walk(node: Node, pointer: string, depth: number, key: SourcePos | undefined): unknown {
    const start = node.range?.[0] ?? 0
    const info: NodeInfo = { value: this.#source.pos(start) }
    if (key) info.key = key
    if (!this.nodes.has(pointer)) this.nodes.set(pointer, info)
    if (this.#inAlias > 0 && ++this.#aliasNodes > this.#limits.maxAliasNodes) {
      if (!this.#tooMany) {
        this.#tooMany = true
        this.problems.push({
          pos: info.value,
          pointer,
          message: `aliases expand to more than ${this.#limits.maxAliasNodes} values; write the data out, or use fewer \`*alias\` references`,
        })
      }
      return null
    }
    if (isAlias(node)) {
      const target = node.resolve(this.#doc)
      if (!target) {
        this.problems.push({ pos: info.value, pointer, message: `unknown alias \`*${node.source}\`` })
        return null
      }
      this.#inAlias++
      try {
        return this.walk(target as Node, pointer, depth + 1, undefined)
      } finally {
        this.#inAlias--
      }
    }
    if (isScalar(node)) {
      const value = node.value
      if (typeof value === 'string' && node.range) {
        info.scalar = {
          type: String(node.type),
          source: this.#source.text.slice(node.range[0], node.range[1]),
          start,
          value,
        }
      }
      if (value === undefined) return null
      if (typeof value === 'bigint') return Number(value)
      return value
    }
    if (depth >= this.#limits.maxDepth) {
      if (!this.#tooDeep) {
        this.#tooDeep = true
        this.problems.push({
          pos: info.value,
          pointer,
          message: `nesting deeper than ${this.#limits.maxDepth} levels`,
        })
      }
      return null
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const childPointer = join(pointer, i)
        if (item === null || item === undefined) {
          this.nodes.set(childPointer, { value: info.value })
          return null
        }
        return this.walk(item as Node, childPointer, depth + 1, undefined)
      })
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {}
      const seen = new Map<string, SourcePos>()
      for (const pair of node.items) this.#pair(pair, out, seen, pointer, depth, info)
      return out
    }
    return null
  }

  #pair(
    pair: { key: unknown; value: unknown },
    out: Record<string, unknown>,
    seen: Map<string, SourcePos>,
    pointer: string,
    depth: number,
    info: NodeInfo,
  ): void {
    const keyNode = pair.key as Node | null
    const keyPos = keyNode?.range ? this.#source.pos(keyNode.range[0]) : info.value
    let name: string
    if (keyNode === null || keyNode === undefined) {
      name = ''
    } else if (isScalar(keyNode)) {
      name = keyNode.value === null || keyNode.value === undefined ? '' : show(keyNode.value)
    } else {
      this.problems.push({
        pos: keyPos,
        pointer,
        message: 'a mapping key must be a plain string, not a list or mapping',
      })
      return
    }
    const valueNode = pair.value as Node | null
    if (name === '<<' && keyNode && isScalar(keyNode) && keyNode.type === Scalar.PLAIN && valueNode) {
      this.#inAlias++
      try {
        this.#merge(valueNode, out, seen, pointer, depth)
      } finally {
        this.#inAlias--
      }
      return
    }
    const childPointer = join(pointer, name)
    const first = seen.get(name)
    if (first) {
      this.problems.push({
        pos: keyPos,
        pointer: childPointer,
        message: `duplicate key \`${name}\` (first defined at line ${first.line}, column ${first.column}); YAML keys must be unique`,
      })
      return
    }
    seen.set(name, keyPos)
    if (valueNode === null || valueNode === undefined) {
      this.nodes.set(childPointer, { value: keyPos, key: keyPos })
      define(out, name, null)
      return
    }
    define(out, name, this.walk(valueNode, childPointer, depth + 1, keyPos))
  }

  /** `<<: *base` merge keys: entries not written explicitly are taken from the merged mapping(s). */
  #merge(
    node: Node,
    out: Record<string, unknown>,
    seen: Map<string, SourcePos>,
    pointer: string,
    depth: number,
  ): void {
    const sources = isSeq(node) ? (node.items as Node[]) : [node]
    for (const item of sources) {
      const resolved = isAlias(item) ? (item.resolve(this.#doc) as Node | undefined) : item
      if (!resolved || !isMap(resolved)) {
        const at = this.#source.pos(item?.range?.[0] ?? 0)
        this.problems.push({ pos: at, pointer, message: '`<<` merges only mappings (e.g. `<<: *defaults`)' })
        continue
      }
      for (const pair of resolved.items) {
        const keyNode = pair.key as Node | null
        if (!keyNode || !isScalar(keyNode)) continue
        const name = show(keyNode.value)
        if (seen.has(name) || Object.hasOwn(out, name)) continue
        const value = pair.value as Node | null
        const keyPos = this.#source.pos(keyNode.range?.[0] ?? 0)
        define(out, name, value ? this.walk(value, join(pointer, name), depth + 1, keyPos) : null)
      }
    }
  }
}

/**
 * Maps an offset inside a string value to its position in the source text, for single-line plain
 * and quoted scalars and for literal block scalars (`|`). Returns undefined when the layout cannot be
 * followed exactly (folded or multi-line flow scalars); callers then point at the node start.
 */
export function offsetInScalar(info: NodeInfo, offset: number, source: YamlSource): SourcePos | undefined {
  const scalar = info.scalar
  if (!scalar || offset < 0 || offset > scalar.value.length) return undefined
  const raw = scalar.source
  if (scalar.type === Scalar.PLAIN) {
    if (raw.includes('\n') || raw !== scalar.value) return undefined
    return source.pos(scalar.start + offset)
  }
  if (scalar.type === Scalar.QUOTE_SINGLE || scalar.type === Scalar.QUOTE_DOUBLE) {
    if (raw.includes('\n')) return undefined
    const rawIndex = quotedIndex(raw, offset, scalar.type === Scalar.QUOTE_DOUBLE)
    return rawIndex === undefined ? undefined : source.pos(scalar.start + rawIndex)
  }
  if (scalar.type === Scalar.BLOCK_LITERAL) {
    const before = scalar.value.slice(0, offset)
    const lineIndex = before.split('\n').length - 1
    const columnInLine = offset - (before.lastIndexOf('\n') + 1)
    const rawLines = raw.split('\n')
    const content = rawLines.slice(1)
    const indent = Math.min(
      ...content.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length),
    )
    const line = content[lineIndex]
    if (line === undefined || !Number.isFinite(indent)) return undefined
    let lineStart = scalar.start + rawLines[0]!.length + 1
    for (let i = 0; i < lineIndex; i++) lineStart += content[i]!.length + 1
    return source.pos(lineStart + indent + columnInLine)
  }
  return undefined
}

/** Index in the raw quoted source of decoded character `offset`. */
function quotedIndex(raw: string, offset: number, double: boolean): number | undefined {
  let decoded = 0
  let i = 1
  while (i < raw.length - 1) {
    if (decoded === offset) return i
    const c = raw[i]!
    let width = 1
    let produced = 1
    if (!double && c === "'" && raw[i + 1] === "'") width = 2
    if (double && c === '\\') {
      const e = raw[i + 1]
      width = e === 'x' ? 4 : e === 'u' ? 6 : e === 'U' ? 10 : 2
      if (e === 'U') produced = Number.parseInt(raw.slice(i + 2, i + 10), 16) > 0xffff ? 2 : 1
    }
    decoded += produced
    i += width
  }
  return decoded === offset ? i : undefined
}
