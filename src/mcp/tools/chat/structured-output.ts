import { Ajv, MissingRefError, type Options, type ValidateFunction } from 'ajv'
import { boundedText } from '../../../bounded-text.js'
import { ToolError } from '../../../errors.js'
import type { ResponseFormat } from '../../../upstream/chat-types.js'
import { describeValidationErrors } from '../../../validation-errors.js'
import { linearRegExp, UnsupportedPatternError } from './linear-regexp.js'

// Client schemas are arbitrary: unknown keywords and formats are the upstream's business, not a reason to refuse.
// Their patterns are the client's too: they run on a linear-time engine, never on a backtracking one.
const options: Options = { allErrors: true, strict: false, validateFormats: false, logger: false, code: { regExp: linearRegExp } }

/**
 * Checks schemas against the JSON Schema meta-schema, compiled once. It validates only, and so
 * registers nothing: no `$id` of one call's schema reaches another's.
 */
const metaSchema = new Ajv(options)

const QUOTED_REF_CHARS = 100

// Compiled schemas by their text, a bounded few.
const compiled = new Map<string, ValidateFunction>()
const MAX_COMPILED = 100

/**
 * The model's answer as the JSON the client asked for. An answer that is not JSON, or does not
 * match the schema, is an `invalid_output` failure naming the reason.
 */
export function parseStructuredOutput (text: string, format: ResponseFormat, finishReason: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const why = finishReason === 'length' ? 'it was cut off at the token limit (raise max_tokens)' : 'the model wrote text that does not parse'
    throw new ToolError('invalid_output', `The model's answer is not valid JSON: ${why}. Answer begins: ${JSON.stringify(text.slice(0, 80))}.`, { retryable: true })
  }
  if (format.type !== 'json_schema') return value
  const validate = validatorFor(format.schema)
  if (!validate(value)) {
    throw new ToolError('invalid_output', `The model's JSON does not match the schema "${format.name}": ${describeValidationErrors(validate.errors)}. Retry, or set strict: true so the upstream enforces the schema.`, { retryable: true })
  }
  return value
}

/** Refuses a schema that cannot be compiled before any tokens are spent on it. */
export function checkResponseFormat (format: ResponseFormat | undefined): void {
  if (format?.type === 'json_schema') validatorFor(format.schema)
}

function validatorFor (schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema)
  const known = compiled.get(key)
  if (known) return known
  let validate: ValidateFunction
  try {
    validate = compileAlone(schema)
  } catch (err) {
    throw new ToolError('invalid_arguments', `Invalid arguments for chat: response_format.schema is not a usable JSON Schema (${whyUnusable(err)}).`, { retryable: false })
  }
  if (compiled.size >= MAX_COMPILED) {
    const oldest = compiled.keys().next()
    if (!oldest.done) compiled.delete(oldest.value)
  }
  compiled.set(key, validate)
  return validate
}

/**
 * `schema` compiled in an Ajv instance of its own, which no other schema is ever added to: its
 * `$id`s and `$ref`s resolve within it alone. The meta-schema check is shared: an instance's own
 * would compile the meta-schema again for every schema (docs/performance.md).
 */
function compileAlone (schema: Record<string, unknown>): ValidateFunction {
  if (!metaSchema.validateSchema(schema)) throw new Error(`schema is invalid: ${metaSchema.errorsText(metaSchema.errors)}`)
  return new Ajv({ ...options, meta: false, validateSchema: false }).compile(schema)
}

function whyUnusable (err: unknown): string {
  if (err instanceof UnsupportedPatternError) return `${err.message}; rewrite it in RE2 syntax or leave it out`
  // Each call's schema stands alone: what it refers to must be inside it.
  if (err instanceof MissingRefError) return `$ref ${JSON.stringify(boundedText(err.missingRef, QUOTED_REF_CHARS))} names nothing in this schema; each call's schema stands alone, so put what it refers to under its own $defs`
  return err instanceof Error ? err.message : String(err)
}
