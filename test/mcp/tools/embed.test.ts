import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorBody, fakeEmbedding } from '../../support/fake-openai.js'
import { errorMeta, textOf } from '../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../support/app.js'

interface EmbedStructured {
  model: string
  dimensions: number
  embeddings: Array<{ index: number, embedding: number[] }>
  usage: { inputTokens: number, totalTokens: number }
}

describe('embed', () => {
  let stack: InProcessStack
  before(async () => { stack = await startInProcessStack({ EMBEDDING_MODEL: 'text-embedding-3-small' }) })
  after(() => stack.close())
  beforeEach(() => stack.upstream.reset())

  test('one text gets one vector from the default model, decoded from base64 on the wire', async () => {
    const result = await stack.client.callTool({ name: 'embed', arguments: { input: 'hello world' } })
    assert.equal(result.isError, undefined)
    const structured = result.structuredContent as unknown as EmbedStructured
    assert.equal(structured.model, 'text-embedding-3-small')
    assert.equal(structured.dimensions, 1536)
    assert.deepEqual(structured.embeddings[0]?.embedding, fakeEmbedding('hello world', 1536))
    const { body } = stack.upstream.received('POST /v1/embeddings')[0]!
    assert.equal(body.encoding_format, 'base64')
    assert.equal(body.model, 'text-embedding-3-small')
  })

  test('several texts keep their order, dimensions and model are passed, and the text stays a short summary', async () => {
    const input = ['first', 'second text', 'third']
    const result = await stack.client.callTool({ name: 'embed', arguments: { input, model: 'text-embedding-3-large', dimensions: 64 } })
    const structured = result.structuredContent as unknown as EmbedStructured
    assert.deepEqual(structured.embeddings.map(({ index }) => index), [0, 1, 2])
    structured.embeddings.forEach(({ embedding }, index) => {
      assert.deepEqual(embedding, fakeEmbedding(input[index]!, 64))
    })
    assert.equal(textOf(result), '3 embeddings of 64 dimensions from text-embedding-3-large (9 input tokens); the vectors are in structuredContent.embeddings.')
    const { body } = stack.upstream.received('POST /v1/embeddings')[0]!
    assert.equal(body.dimensions, 64)
    assert.deepEqual(body.input, input)
  })

  test('bad arguments are refused without an upstream call', async () => {
    const empty = await stack.client.callTool({ name: 'embed', arguments: { input: [] } })
    assert.equal(errorMeta(empty).code, 'invalid_arguments')
    assert.match(textOf(empty), /input must NOT have fewer than 1 items/)
    const zero = await stack.client.callTool({ name: 'embed', arguments: { input: 'x', dimensions: 0 } })
    assert.match(textOf(zero), /dimensions must be >= 1/)
    assert.equal(stack.upstream.received('POST /v1/embeddings').length, 0)
  })

  test('upstream refusals are actionable tool errors', async () => {
    stack.upstream.script('POST /v1/embeddings', { status: 400, json: errorBody('This model does not support specifying dimensions.', 'invalid_request_error') })
    const result = await stack.client.callTool({ name: 'embed', arguments: { input: 'x', model: 'text-embedding-ada-002', dimensions: 8 } })
    assert.equal(errorMeta(result).code, 'upstream_rejected')
    assert.match(textOf(result), /embedding with text-embedding-ada-002 \(HTTP 400: This model does not support specifying dimensions/)
    stack.upstream.script('POST /v1/embeddings', { status: 404, json: errorBody('The model `nope` does not exist.', 'invalid_request_error', 'model_not_found') })
    const unknown = await stack.client.callTool({ name: 'embed', arguments: { input: 'x', model: 'nope' } })
    assert.equal(errorMeta(unknown).code, 'model_not_found')
  })
})
