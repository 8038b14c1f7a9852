import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, connectInProcess, startInProcessStack } from '../../support/app.js'
import { errorBody, FakeOpenAI } from '../../support/fake-openai.js'
import { errorMeta, textOf } from '../../support/results.js'
import { waitFor } from '../../support/wait-for.js'
import { TEST_API_KEY } from '../../support/router.js'

describe('list_models', () => {
  let upstream: FakeOpenAI
  let app: FastifyInstance
  let client: Client

  before(async () => {
    upstream = await FakeOpenAI.start()
    app = await buildTestApp({ OPENAI_BASE_URL: upstream.baseURL, MODEL: 'gpt-4.1-mini' })
    client = await connectInProcess(app)
  })
  after(async () => {
    await client.close()
    await app.close()
    await upstream.close()
  })

  test('lists the upstream models, sorted, with the default model', async () => {
    const result = await client.callTool({ name: 'list_models', arguments: {} })
    const structured = result.structuredContent as {
      defaultModel: string
      models: Array<{ id: string, ownedBy: string }>
    }
    assert.equal(structured.defaultModel, 'gpt-4.1-mini')
    assert.deepEqual(structured.models.map((model) => model.id), ['gpt-4.1', 'gpt-4.1-mini', 'text-embedding-3-small'])
    assert.equal(structured.models[0]?.ownedBy, 'openai')
    assert.match(textOf(result), /^3 models \(default: gpt-4.1-mini\):\ngpt-4.1\n/)
    assert.equal(upstream.received('GET /v1/models').at(-1)?.headers.authorization, `Bearer ${TEST_API_KEY}`)
  })

  test('contains filters case-insensitively', async () => {
    const result = await client.callTool({ name: 'list_models', arguments: { contains: 'EMBEDDING' } })
    assert.deepEqual((result.structuredContent as { models: Array<{ id: string }> }).models.map((model) => model.id), ['text-embedding-3-small'])
    const none = await client.callTool({ name: 'list_models', arguments: { contains: 'claude' } })
    assert.match(textOf(none), /No models matching "claude"/)
  })

  test('the list is cached: a second call within MODELS_CACHE_TTL_MS asks the upstream nothing', async () => {
    const before = upstream.received('GET /v1/models').length
    const result = await client.callTool({ name: 'list_models', arguments: { contains: 'gpt' } })
    assert.equal((result.structuredContent as { models: unknown[] }).models.length, 2)
    assert.equal(upstream.received('GET /v1/models').length, before)
  })

  test('a stale list is served at once and refreshed in the background', async () => {
    const stack = await startInProcessStack({ MODELS_CACHE_TTL_MS: '0' })
    try {
      await stack.client.callTool({ name: 'list_models', arguments: {} })
      stack.upstream.models = [...stack.upstream.models, 'gpt-5']
      const stale = await stack.client.callTool({ name: 'list_models', arguments: {} })
      assert.ok(!(stale.structuredContent as { models: Array<{ id: string }> }).models.some((model) => model.id === 'gpt-5'), 'the cached list first')
      await waitFor(() => stack.upstream.received('GET /v1/models').length === 2, 'a refresh behind the stale answer')
      await waitFor(async () => {
        const fresh = await stack.client.callTool({ name: 'list_models', arguments: {} })
        return (fresh.structuredContent as { models: Array<{ id: string }> }).models.some((model) => model.id === 'gpt-5')
      }, 'the refreshed list')
    } finally {
      await stack.close()
    }
  })

  test('an upstream without /models is reported as a configuration problem', async () => {
    const stack = await startInProcessStack()
    try {
      stack.upstream.script('GET /v1/models', { status: 404, json: errorBody('Unknown request URL: GET /v1/models.', 'invalid_request_error', 'unknown_url') })
      const result = await stack.client.callTool({ name: 'list_models', arguments: {} })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_rejected')
      assert.match(textOf(result), /OPENAI_BASE_URL may be wrong/)
    } finally {
      await stack.close()
    }
  })
})
