import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runSchemaJob, validatorCache } from '../../../src/mcp/schemas/schema-worker.js'

/** A distinct schema of `count` properties with a pattern each. */
function schemaText (count: number, variant: number): string {
  const properties: Record<string, unknown> = {}
  for (let index = 0; index < count; index++) properties[`p${index}`] = { type: 'string', pattern: `^[a-z]{1,${index % 9 + 1}}$`, anyOf: [{ minLength: 1 }, { maxLength: 9 }] }
  return JSON.stringify({ title: `variant ${variant}`, type: 'object', properties })
}

test('compiled validators are kept within an estimate of their memory, not a count: the least recently used go first', () => {
  const maxBytes = 8 * 1024 * 1024
  const cache = validatorCache(maxBytes)
  const schemas = Array.from({ length: 12 }, (_, variant) => schemaText(40, variant))
  for (const schema of schemas) assert.deepEqual(runSchemaJob(cache, { schema, answer: '{"p0":"a"}' }), { outcome: 'ok' })
  assert.ok(cache.calculatedSize <= maxBytes, `${cache.calculatedSize} bytes estimated`)
  assert.ok(cache.size < schemas.length, `${cache.size} validators kept of ${schemas.length}`)
  assert.ok(cache.has(schemas.at(-1) ?? ''), 'the latest is kept')
  assert.equal(cache.has(schemas[0] ?? ''), false, 'the oldest went first')
  // A validator is estimated from its generated code: far more than its schema's text.
  const [key, size] = [schemas.at(-1) ?? '', cache.info(schemas.at(-1) ?? '')?.size ?? 0]
  assert.ok(size > key.length * 10, `estimated ${size} bytes for ${key.length} characters of schema`)
})

test('a validator larger than the whole budget is used, not kept', () => {
  const cache = validatorCache(1024 * 1024)
  const schema = schemaText(200, 0)
  assert.deepEqual(runSchemaJob(cache, { schema, answer: '{"p1":"TOO LONG"}' }).outcome, 'mismatch')
  assert.equal(cache.size, 0)
})
