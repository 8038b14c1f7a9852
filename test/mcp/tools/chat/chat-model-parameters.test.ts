import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { modelTraits } from '../../../../src/upstream/model-family.js'
import { errorBody } from '../../../support/fake-openai.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../../support/app.js'

const everything = { temperature: 0.3, top_p: 0.8, reasoning_effort: 'low', verbosity: 'high', max_tokens: 100 }

describe('which parameters each model family gets', () => {
  test('reasoning, classic and unknown model ids', () => {
    assert.equal(modelTraits('o3-mini').acceptsSampling, false)
    assert.equal(modelTraits('gpt-5').acceptsVerbosity, true)
    assert.equal(modelTraits('openai/gpt-5-mini').acceptsSampling, false)
    assert.equal(modelTraits('gpt-5-chat-latest').acceptsReasoningEffort, false)
    assert.equal(modelTraits('gpt-4.1').acceptsReasoningEffort, false)
    assert.deepEqual(modelTraits('llama-3.1-70b'), { acceptsSampling: true, acceptsReasoningEffort: true, acceptsVerbosity: true, maxTokensField: 'max_tokens' })
  })
})

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`reasoning parameters over the ${api} API`, () => {
    let stack: InProcessStack
    before(async () => { stack = await startInProcessStack({ UPSTREAM_API: api }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    test('a reasoning model gets reasoning_effort and verbosity but not temperature or top_p', async () => {
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'think', model: 'gpt-5', ...everything } })
      const { body } = stack.upstream.received(route)[0]!
      assert.equal(body.temperature, undefined)
      assert.equal(body.top_p, undefined)
      if (api === 'responses') {
        assert.deepEqual(body.reasoning, { effort: 'low' })
        assert.deepEqual(body.text, { verbosity: 'high' })
        assert.equal(body.max_output_tokens, 100)
      } else {
        assert.equal(body.reasoning_effort, 'low')
        assert.equal(body.verbosity, 'high')
        assert.equal(body.max_completion_tokens, 100)
        assert.equal(body.max_tokens, undefined)
      }
      assert.deepEqual((result.structuredContent as { droppedParameters: string[] }).droppedParameters, ['temperature', 'top_p'])
      assert.match(textOf(result), /Not sent to gpt-5, which does not accept them: temperature, top_p/)
    })

    test('a classic model gets sampling parameters but not reasoning ones', async () => {
      await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-4.1', ...everything } })
      const { body } = stack.upstream.received(route)[0]!
      assert.equal(body.temperature, 0.3)
      assert.equal(body.top_p, 0.8)
      assert.equal(body.reasoning ?? body.reasoning_effort, undefined)
      assert.equal(body.text?.verbosity ?? body.verbosity, undefined)
    })

    test('a model the router does not know gets everything, and its refusal is returned', async () => {
      stack.upstream.script(route, { status: 400, json: errorBody("Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'invalid_request_error', 'unsupported_parameter') })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'llama-3.1-70b', ...everything } })
      const { body } = stack.upstream.received(route)[0]!
      assert.equal(body.temperature, 0.3)
      assert.ok(body.reasoning ?? body.reasoning_effort)
      assert.equal(errorMeta(result).code, 'upstream_rejected')
      assert.match(textOf(result), /HTTP 400: Unsupported parameter: 'reasoning_effort' is not supported with this model/)
    })

    test('a bad reasoning_effort is refused by the schema', async () => {
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', reasoning_effort: 'extreme' } })
      assert.match(textOf(result), /reasoning_effort must be one of: minimal, low, medium, high/)
    })
  })
}
