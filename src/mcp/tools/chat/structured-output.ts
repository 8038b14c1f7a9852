import { ToolError } from '../../../errors.js'
import type { ResponseFormat } from '../../../upstream/chat-types.js'
import type { SchemaChecker } from '../../schemas/schema-checker.js'

/**
 * The model's answer as the JSON the client asked for. An answer that is not JSON, or does not
 * match the schema, is an `invalid_output` failure naming the reason.
 */
export async function parseStructuredOutput (
  schemas: SchemaChecker,
  caller: string,
  text: string,
  format: ResponseFormat,
  finishReason: string
): Promise<unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const why = finishReason === 'length' ? 'it was cut off at the token limit (raise max_tokens)' : 'the model wrote text that does not parse'
    throw new ToolError('invalid_output', `The model's answer is not valid JSON: ${why}. Answer begins: ${JSON.stringify(text.slice(0, 80))}.`, { retryable: true })
  }
  if (format.type !== 'json_schema') return value
  const mismatch = await schemas.mismatch(caller, format.schema, text)
  if (mismatch !== undefined) {
    throw new ToolError('invalid_output', `The model's JSON does not match the schema "${format.name}": ${mismatch}. Retry, or set strict: true so the upstream enforces the schema.`, { retryable: true })
  }
  return value
}

/** Refuses a schema over the router's limits, or that cannot be compiled, before any tokens are spent on it. */
export async function checkResponseFormat (
  schemas: SchemaChecker,
  caller: string,
  format: ResponseFormat | undefined
): Promise<void> {
  if (format?.type === 'json_schema') await schemas.check(caller, format.schema)
}
