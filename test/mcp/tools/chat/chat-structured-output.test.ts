import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorMeta, textOf } from '../../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../../support/app.js'

const schema = {
  type: 'object',
  properties: { city: { type: 'string' }, celsius: { type: 'number' } },
  required: ['city', 'celsius'],
  additionalProperties: false,
}
const jsonSchemaFormat = { type: 'json_schema', name: 'weather', schema, strict: true }

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`structured output over the ${api} API`, () => {
    let stack: InProcessStack
    before(async () => { stack = await startInProcessStack({ UPSTREAM_API: api }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    const answer = (text: string, finishReason = 'stop') => stack.upstream.script(route, {
      json: api === 'responses'
        ? stack.upstream.responseBody('gpt-4.1-mini', text, finishReason === 'length' ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } : {})
        : stack.upstream.chatCompletionBody('gpt-4.1-mini', text, finishReason),
    })

    test('a json_schema format is sent in the API\'s form and the answer comes back parsed', async () => {
      answer('{"city":"Paris","celsius":21}')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather in Paris as JSON', response_format: jsonSchemaFormat } })
      assert.equal(result.isError, undefined)
      assert.deepEqual((result.structuredContent as { json: unknown }).json, { city: 'Paris', celsius: 21 })
      assert.equal(textOf(result), '{"city":"Paris","celsius":21}')
      const { body } = stack.upstream.received(route)[0]!
      if (api === 'responses') assert.deepEqual(body.text, { format: jsonSchemaFormat })
      else assert.deepEqual(body.response_format, { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } })
    })

    test('json_object asks for any JSON', async () => {
      answer('{"anything": [1, 2]}')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: { type: 'json_object' } } })
      assert.deepEqual((result.structuredContent as { json: unknown }).json, { anything: [1, 2] })
      const { body } = stack.upstream.received(route)[0]!
      assert.deepEqual(api === 'responses' ? body.text.format : body.response_format, { type: 'json_object' })
    })

    test('an answer that is not JSON is an invalid_output error with the reason', async () => {
      answer('Sure! Here is the weather: sunny.')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', response_format: jsonSchemaFormat } })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'invalid_output')
      assert.match(textOf(result), /not valid JSON: the model wrote text that does not parse. Answer begins: "Sure! Here/)
    })

    test('an answer cut off at the token limit says so', async () => {
      answer('{"city":"Par', 'length')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', response_format: jsonSchemaFormat, max_tokens: 5 } })
      assert.match(textOf(result), /cut off at the token limit \(raise max_tokens\)/)
    })

    test('JSON that does not match the schema is an invalid_output error naming the field', async () => {
      answer('{"city":"Paris","celsius":"warm"}')
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', response_format: jsonSchemaFormat } })
      assert.equal(errorMeta(result).code, 'invalid_output')
      assert.match(textOf(result), /does not match the schema "weather": celsius must be number/)
    })

    test('a schema that cannot be compiled is refused before the upstream is called', async () => {
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', response_format: { type: 'json_schema', name: 'bad', schema: { type: 'object', properties: { a: { type: 'not-a-type' } } } } } })
      assert.equal(errorMeta(result).code, 'invalid_arguments')
      assert.match(textOf(result), /response_format.schema is not a usable JSON Schema/)
      const missingName = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', response_format: { type: 'json_schema', schema } } })
      assert.match(textOf(missingName), /response_format\.name is required/)
      assert.equal(stack.upstream.received(route).length, 0)
    })
  })
}
