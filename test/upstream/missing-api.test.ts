import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorBody } from '../support/fake-openai.js'
import { errorMeta, textOf } from '../support/results.js'
import { startStack, type TestStack } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

// An OpenAI-compatible server with Chat Completions but no Responses API (vLLM, Ollama, most
// gateways) against the default UPSTREAM_API=responses: the failure names the API and the setting.
describe('an upstream without the API a tool calls', () => {
  let stack: TestStack
  before(async () => { stack = await startStack({ READY_CHECK_TTL_MS: '1000' }) })
  after(() => stack.close())
  beforeEach(() => stack.upstream.reset())

  test('chat against a server without the Responses API: upstream_rejected naming POST /responses and UPSTREAM_API, not an unknown model', async () => {
    stack.upstream.missingRoutes.add('POST /v1/responses')
    const result = await stack.client.callTool({ name: 'chat', arguments: { model: 'gpt-4.1-mini', prompt: 'hi' } })
    assert.equal(result.isError, true)
    assert.equal(errorMeta(result).code, 'upstream_rejected')
    assert.match(textOf(result), /has no Responses API \(POST \/responses answered HTTP 404: .*Not Found.*\)\. If it offers Chat Completions only, as many OpenAI-compatible servers do, set the router's UPSTREAM_API to chat_completions/)
    assert.doesNotMatch(textOf(result), /does not know model|list_models/)
  })

  test('embed against a server without /embeddings: upstream_rejected naming the embeddings API', async () => {
    stack.upstream.missingRoutes.add('POST /v1/embeddings')
    const result = await stack.client.callTool({ name: 'embed', arguments: { input: 'hello' } })
    assert.equal(errorMeta(result).code, 'upstream_rejected')
    assert.match(textOf(result), /has no embeddings API \(POST \/embeddings answered HTTP 404: .*\)\. It cannot serve embed/)
  })

  test('a 405 (a server that routes the path for another method only) is a missing API too', async () => {
    stack.upstream.script('POST /v1/images/generations', { status: 405, json: { detail: 'Method Not Allowed' } })
    const result = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat' } })
    assert.equal(errorMeta(result).code, 'upstream_rejected')
    assert.match(textOf(result), /has no image generation API \(POST \/images\/generations answered HTTP 405: .*Method Not Allowed.*\)\. It cannot serve generate_image/)
  })

  test('a 404 whose body is about the model is still model_not_found, whether OpenAI\'s code or a compatible server\'s words say so', async () => {
    stack.upstream.script('POST /v1/responses',
      { status: 404, json: errorBody('The model `gpt-9` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found') },
      { status: 404, json: { object: 'error', message: 'The model `gpt-9` does not exist.', type: 'NotFoundError', param: null, code: 404 } })
    for (let i = 0; i < 2; i++) {
      const result = await stack.client.callTool({ name: 'chat', arguments: { model: 'gpt-9', prompt: 'hi' } })
      assert.equal(errorMeta(result).code, 'model_not_found')
    }
  })

  test('/ready says not ready, naming UPSTREAM_API, while the configured API is missing, and ready again once it answers', async () => {
    stack.upstream.missingRoutes.add('POST /v1/responses')
    const answer = await fetch(new URL('/ready', stack.router.url))
    assert.equal(answer.status, 503)
    const body = await answer.json() as {
      reason: string
      checks: { providers: Record<string, { check: { status: string, error: string } }> }
    }
    assert.match(body.reason, /upstream check failed: The upstream at .* has no Responses API .* set the router's UPSTREAM_API to chat_completions/)
    assert.deepEqual(Object.values(body.checks.providers).map((provider) => provider.check.status), ['failing'])
    assert.deepEqual(stack.upstream.received('POST /v1/responses').map((probe) => probe.body), [{}], 'one probe with an empty body: nothing for the upstream to run')

    stack.upstream.missingRoutes.clear()
    // A missing API is asked about again within 5 s (READY_CHECK_TTL_MS here is 1 s).
    await waitFor(async () => (await fetch(new URL('/ready', stack.router.url))).status === 200, '/ready to say ready', 20_000)
    assert.ok(stack.upstream.modelless.every((probe) => probe.path === '/v1/responses'), 'the server with the API refused the probes (400), as OpenAI does')
  })
})
