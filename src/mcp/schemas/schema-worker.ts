import { parentPort, workerData } from 'node:worker_threads'
import { Ajv, MissingRefError, type Options, type ValidateFunction } from 'ajv'
import { LRUCache } from 'lru-cache'
import { boundedText } from '../../bounded-text.js'
import { describeValidationErrors } from '../../validation-errors.js'
import { linearRegExp, UnsupportedPatternError } from './linear-regexp.js'

/** A job for the worker: compile `schema` (JSON text), and check `answer` (JSON text) against it when given. */
export interface SchemaJob {
  schema: string
  answer?: string
}

/** Its outcome: usable (and the answer matches), unusable (why), or the answer's mismatch. */
export type SchemaJobOutcome = { outcome: 'ok' } | { outcome: 'unusable', reason: string } | { outcome: 'mismatch', errors: string }

export interface SchemaWorkerData {
  /** Estimated bytes the compiled validators kept may take (SCHEMA_CACHE_MAX_BYTES). */
  cacheMaxBytes: number
}

// Client schemas are arbitrary: unknown keywords and formats are the upstream's business, not a reason to refuse.
// Their patterns are the client's too: they run on a linear-time engine, never on a backtracking one.
const options: Options = {
  allErrors: true,
  strict: false,
  validateFormats: false,
  logger: false,
  code: { regExp: linearRegExp },
}

/**
 * Checks schemas against the JSON Schema meta-schema, compiled once. It validates only, and so
 * registers nothing: no `$id` of one call's schema reaches another's.
 */
const metaSchema = new Ajv(options)

const QUOTED_REF_CHARS = 100

/**
 * What a compiled validator is taken to cost: its generated code's length times this. V8 keeps
 * the source, its bytecode and compiled code; the process grew 17–21 bytes per character of
 * generated code (docs/performance.md).
 */
const BYTES_PER_CODE_CHAR = 20

/**
 * `schema` compiled in an Ajv instance of its own, which no other schema is ever added to: its
 * `$id`s and `$ref`s resolve within it alone. The meta-schema check is shared: an instance's own
 * would compile the meta-schema again for every schema (docs/performance.md).
 */
function compileAlone (schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null) throw new Error('schema must be an object')
  if (!metaSchema.validateSchema(schema)) throw new Error(`schema is invalid: ${metaSchema.errorsText(metaSchema.errors)}`)
  return new Ajv({ ...options, meta: false, validateSchema: false }).compile(schema)
}

function whyUnusable (err: unknown): string {
  if (err instanceof UnsupportedPatternError) return `${err.message}; rewrite it in RE2 syntax or leave it out`
  // Each call's schema stands alone: what it refers to must be inside it.
  if (err instanceof MissingRefError) return `$ref ${JSON.stringify(boundedText(err.missingRef, QUOTED_REF_CHARS))} names nothing in this schema; each call's schema stands alone, so put what it refers to under its own $defs`
  return err instanceof Error ? err.message : String(err)
}

/** Compiled validators by their schema's text, within an estimate of the memory they take; one over it is not kept. */
export function validatorCache (maxBytes: number): LRUCache<string, ValidateFunction> {
  return new LRUCache<string, ValidateFunction>({
    maxSize: maxBytes,
    sizeCalculation: (validate) => Math.max(1, validate.toString().length * BYTES_PER_CODE_CHAR),
  })
}

/** The outcome of one job, using and filling `cache`. */
export function runSchemaJob (
  cache: LRUCache<string, ValidateFunction>,
  { schema, answer }: SchemaJob
): SchemaJobOutcome {
  let validate = cache.get(schema)
  if (!validate) {
    try {
      validate = compileAlone(JSON.parse(schema))
    } catch (err) {
      return { outcome: 'unusable', reason: whyUnusable(err) }
    }
    cache.set(schema, validate)
  }
  if (answer === undefined || validate(JSON.parse(answer))) return { outcome: 'ok' }
  return { outcome: 'mismatch', errors: describeValidationErrors(validate.errors) }
}

/**
 * What the worker says once it can take jobs: its start-up (loading, the meta-schema's compile)
 * is not a job's time.
 */
export const WORKER_READY = 'ready'

if (parentPort) {
  const port = parentPort
  const cache = validatorCache((workerData as SchemaWorkerData).cacheMaxBytes)
  metaSchema.validateSchema({})
  port.on('message', (job: SchemaJob) => port.postMessage(runSchemaJob(cache, job)))
  port.postMessage(WORKER_READY)
}
