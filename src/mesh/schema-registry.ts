import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { EVENT_TYPE_PATTERN } from '../core/event.ts'
import { isPlainObject, join } from '../core/json-pointer.ts'
import { unknownKey } from '../core/suggest.ts'
import { loadYaml, type LoadedDocument, type SourcePos } from '../core/yaml-positions.ts'
import { violationsOf, type Violation } from '../core/ajv-violations.ts'
import { workflowFiles } from './workflow-files.ts'

/**
 * The JSON Schemas of event `data`, one per event type, loaded from `schemas/*.yaml` files that each
 * hold one or many types (`event_types: {<type>: {description, data}}`). Each schema is compiled once
 * by Ajv; `validate` returns every violation at once as a JSON pointer into the event and a message.
 * docs/routing.md describes the file format.
 */

/** A problem in a schema file, at `file:line:column` (1-based; 0 when the file cannot be read). */
export interface SchemaProblem {
  file: string
  line: number
  column: number
  /** Where in the file's document, e.g. `/event_types/kpi.threshold_breach/data/properties/score/type`. */
  pointer: string
  message: string
}

export type { Violation } from '../core/ajv-violations.ts'

/** Keys of one event type's entry. */
const ENTRY_KEYS = ['description', 'data'] as const

interface Entry {
  readonly type: string
  readonly description?: string
  readonly file?: string
  readonly validate: ValidateFunction
}

/** Compiles schemas; draft-07 unless a schema's `$schema` names draft 2020-12. */
class Compiler {
  #draft7: Ajv | undefined
  #draft2020: Ajv2020 | undefined

  compile(schema: object | boolean): ValidateFunction {
    return this.#ajvFor(schema).compile(schema)
  }

  /** Problems of the schema against its meta-schema: pointers relative to the schema. */
  check(schema: object | boolean): Array<{ pointer: string; message: string }> {
    const ajv = this.#ajvFor(schema)
    if (ajv.validateSchema(schema) === true) return []
    return schemaErrors(ajv.errors ?? [])
  }

  #ajvFor(schema: object | boolean): Ajv | Ajv2020 {
    const declared = typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined
    const options = {
      strict: false,
      allErrors: true,
      verbose: true,
      allowUnionTypes: true,
      logger: false,
    } as const
    if (typeof declared === 'string' && declared.includes('2020-12')) {
      if (this.#draft2020 === undefined) addFormats.default((this.#draft2020 = new Ajv2020(options)))
      return this.#draft2020
    }
    if (this.#draft7 === undefined) addFormats.default((this.#draft7 = new Ajv(options)))
    return this.#draft7
  }
}

export class SchemaRegistry {
  readonly #entries: ReadonlyMap<string, Entry>

  private constructor(entries: ReadonlyMap<string, Entry>) {
    this.#entries = entries
  }

  /**
   * Loads every `*.yaml`, `*.yml` and `*.json` file under `paths` (files or directories, recursively,
   * in sorted order). Every problem is reported, each at its position: unreadable files, YAML errors,
   * entries that are not `{description?, data}`, a type defined twice (the first definition is kept),
   * a schema that does not compile. Every other type still loads.
   */
  static async load(
    paths: readonly string[],
  ): Promise<{ registry: SchemaRegistry; problems: SchemaProblem[] }> {
    const compiler = new Compiler()
    const entries = new Map<string, Entry>()
    const where = new Map<string, string>()
    const problems: SchemaProblem[] = []
    for (const path of paths) {
      let files: string[]
      try {
        files = await workflowFiles(path)
      } catch (err) {
        problems.push(unreadable(path, err))
        continue
      }
      for (const file of files) {
        let text: string
        try {
          text = await readFile(file, 'utf8')
        } catch (err) {
          problems.push(unreadable(file, err))
          continue
        }
        const { documents } = loadYaml(text)
        for (const doc of documents) {
          const at = (pointer: string, message: string, pos?: SourcePos): SchemaProblem => {
            const p = pos ?? position(doc, pointer)
            return { file, line: p.line, column: p.column, pointer, message }
          }
          for (const e of [...doc.syntaxErrors, ...doc.problems])
            problems.push(at(e.pointer, e.message, e.pos))
          if (doc.syntaxErrors.length > 0 || doc.empty) continue
          readDocument(doc.value, {
            problem: (pointer, message) => problems.push(at(pointer, message)),
            define: (type, description, schema, pointer) => {
              const first = where.get(type)
              if (first !== undefined) {
                const same =
                  first === file ? 'earlier in this file' : `in ${relative(process.cwd(), first) || first}`
                problems.push(
                  at(
                    pointer,
                    `event type \`${type}\` is already defined ${same}; this definition is ignored`,
                  ),
                )
                return
              }
              const dataPointer = join(pointer, 'data')
              const invalid = compiler.check(schema)
              if (invalid.length > 0) {
                for (const e of invalid) {
                  problems.push(at(dataPointer + e.pointer, `schema of \`${type}\`: ${e.message}`))
                }
                return
              }
              let validate: ValidateFunction
              try {
                validate = compiler.compile(schema)
              } catch (err) {
                problems.push(
                  at(dataPointer, `schema of \`${type}\` does not compile: ${(err as Error).message}`),
                )
                return
              }
              where.set(type, file)
              entries.set(type, {
                type,
                file,
                validate,
                ...(description === undefined ? {} : { description }),
              })
            },
          })
        }
      }
    }
    return { registry: new SchemaRegistry(entries), problems }
  }

  /** A registry from schemas in code (tests, plugins). Throws an `Error` naming a schema that does not compile. */
  static fromMap(schemas: Record<string, { description?: string; data: object }>): SchemaRegistry {
    const compiler = new Compiler()
    const entries = new Map<string, Entry>()
    for (const [type, { description, data }] of Object.entries(schemas)) {
      const invalid = compiler.check(data)
      if (invalid.length > 0) {
        throw new Error(`schema of \`${type}\`: ${invalid.map((e) => e.message).join('; ')}`)
      }
      let validate: ValidateFunction
      try {
        validate = compiler.compile(data)
      } catch (err) {
        throw new Error(`schema of \`${type}\` does not compile: ${(err as Error).message}`, { cause: err })
      }
      entries.set(type, { type, validate, ...(description === undefined ? {} : { description }) })
    }
    return new SchemaRegistry(entries)
  }

  /** Whether a schema is registered for `type`. */
  has(type: string): boolean {
    return this.#entries.has(type)
  }

  /**
   * Every violation of `data` against the schema of `type`, pointers prefixed with `/data`
   * (`/data/score must be <= 100 (got 120)`). No schema for the type: no violations (see `check`).
   */
  validate(type: string, data: unknown): Violation[] {
    const entry = this.#entries.get(type)
    if (entry === undefined || entry.validate(data)) return []
    return violationsOf(entry.validate.errors ?? [], '/data')
  }

  /**
   * `validate`, with a type that has no schema accepted (no violations) or rejected (one violation at
   * `/type`), as configured.
   */
  check(type: string, data: unknown, unknownTypes: 'accept' | 'reject'): Violation[] {
    if (unknownTypes === 'reject' && !this.#entries.has(type)) {
      return [
        {
          pointer: '/type',
          message: `/type: no schema is registered for event type \`${type}\`, and unknown types are rejected`,
        },
      ]
    }
    return this.validate(type, data)
  }

  /** The registered types, sorted, with their description and the file that defines them. */
  types(): Array<{ type: string; description?: string; file?: string }> {
    return [...this.#entries.values()]
      .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))
      .map(({ type, description, file }) => ({
        type,
        ...(description === undefined ? {} : { description }),
        ...(file === undefined ? {} : { file }),
      }))
  }
}

interface Reader {
  problem(pointer: string, message: string): void
  define(type: string, description: string | undefined, schema: object | boolean, pointer: string): void
}

/** Walks `{event_types: {<type>: {description?, data}}}`, reporting every shape problem. */
function readDocument(value: unknown, reader: Reader): void {
  if (!isPlainObject(value)) {
    reader.problem('', 'a schema file is a mapping with `event_types: {<event type>: {description, data}}`')
    return
  }
  for (const key of Object.keys(value)) {
    if (key !== 'event_types')
      reader.problem(join('', key), unknownKey(key, 'the schema file', ['event_types']))
  }
  const types = value.event_types
  if (!isPlainObject(types)) {
    reader.problem(
      Object.hasOwn(value, 'event_types') ? '/event_types' : '',
      '`event_types` must be a mapping of event type to `{description, data}`',
    )
    return
  }
  for (const [type, entry] of Object.entries(types)) {
    const pointer = join('/event_types', type)
    if (!EVENT_TYPE_PATTERN.test(type)) {
      reader.problem(
        pointer,
        `\`${type}\` is not an event type: write dotted words of [a-z0-9_], e.g. kpi.threshold_breach`,
      )
      continue
    }
    if (!isPlainObject(entry)) {
      reader.problem(
        pointer,
        `event type \`${type}\` must be a mapping with \`data\` (its JSON Schema) and an optional \`description\``,
      )
      continue
    }
    for (const key of Object.keys(entry)) {
      if (!(ENTRY_KEYS as readonly string[]).includes(key)) {
        reader.problem(join(pointer, key), unknownKey(key, `event type \`${type}\``, ENTRY_KEYS))
      }
    }
    const description = entry.description
    if (description !== undefined && typeof description !== 'string') {
      reader.problem(join(pointer, 'description'), `the description of \`${type}\` must be a string`)
    }
    const data = entry.data
    if (!isPlainObject(data) && typeof data !== 'boolean') {
      reader.problem(
        Object.hasOwn(entry, 'data') ? join(pointer, 'data') : pointer,
        `event type \`${type}\` needs \`data\`: the JSON Schema of its events' data (e.g. {type: object, required: [...]})`,
      )
      continue
    }
    reader.define(type, typeof description === 'string' ? description : undefined, data, pointer)
  }
}

/** Position of `pointer`, or of its nearest ancestor that has one. */
function position(doc: LoadedDocument, pointer: string): SourcePos {
  for (let p = pointer; ; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
    const info = doc.nodes.get(p)
    if (info !== undefined) return info.key ?? info.value
    if (p === '') return doc.start
  }
}

function unreadable(path: string, err: unknown): SchemaProblem {
  return {
    file: path,
    line: 0,
    column: 0,
    pointer: '',
    message: `cannot read ${path}: ${(err as Error).message}`,
  }
}

/** Meta-schema errors → one message per schema location, preferring the most specific keyword. */
function schemaErrors(errors: readonly ErrorObject[]): Array<{ pointer: string; message: string }> {
  const byPath = new Map<string, ErrorObject>()
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue
    const seen = byPath.get(e.instancePath)
    if (seen === undefined || (e.keyword === 'enum' && seen.keyword !== 'enum')) byPath.set(e.instancePath, e)
  }
  if (byPath.size === 0 && errors[0] !== undefined) byPath.set(errors[0].instancePath, errors[0])
  return [...byPath.values()].map((e) => {
    const where = e.instancePath === '' ? 'the schema' : `\`${e.instancePath.slice(1).split('/').join('.')}\``
    const allowed =
      e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : ''
    return { pointer: e.instancePath, message: `${where} ${e.message ?? 'is invalid'}${allowed}` }
  })
}
