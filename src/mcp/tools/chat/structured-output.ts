import { Ajv, type ValidateFunction } from 'ajv'
import { ToolError } from '../../../errors.js'
import type { ResponseFormat } from '../../../upstream/chat-types.js'
import { describeValidationErrors } from '../../../validation-errors.js'
import { linearRegExp, UnsupportedPatternError } from './linear-regexp.js'

// Client schemas are arbitrary: unknown keywords and formats are the upstream's business, not a reason to refuse.
// Their patterns are the client's too: they run on a linear-time engine, never on a backtracking one.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false, code: { regExp: linearRegExp } })

// Compiled schemas by their text, a bounded few; evicted ones leave Ajv's own cache too.
const compiled = new Map<string, { schema: object, validate: ValidateFunction }>()
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
  if (known) return known.validate
  let validate: ValidateFunction
  try {
    validate = ajv.compile(schema)
  } catch (err) {
    ajv.removeSchema(schema)
    const why = err instanceof UnsupportedPatternError ? `${err.message}; rewrite it in RE2 syntax or leave it out` : (err as Error).message
    throw new ToolError('invalid_arguments', `Invalid arguments for chat: response_format.schema is not a usable JSON Schema (${why}).`, { retryable: false })
  }
  if (compiled.size >= MAX_COMPILED) {
    const [oldestKey, oldest] = compiled.entries().next().value ?? []
    if (oldestKey !== undefined && oldest) {
      compiled.delete(oldestKey)
      ajv.removeSchema(oldest.schema)
    }
  }
  compiled.set(key, { schema, validate })
  return validate
}
