import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { errorBody, FakeOpenAI } from '../../../support/fake-openai.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { connectClient, postMcp, type RunningRouter, startRouter, startStack, TEST_API_KEY } from '../../../support/router.js'

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`chat over the ${api} API`, () => {
    let upstream: FakeOpenAI
    let router: RunningRouter
    let client: Client

    before(async () => {
      upstream = await FakeOpenAI.start()
      router = await startRouter(upstream, { UPSTREAM_API: api, MODEL: 'gpt-4.1-mini' })
      client = await connectClient(router)
    })
    after(async () => {
      await client.close()
      await router.close()
      await upstream.close()
    })
    beforeEach(() => upstream.reset())

    test('a prompt gets the model answer as text and structured content', async () => {
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Hello there' } })
      assert.equal(result.isError, undefined)
      assert.deepEqual(result.content, [{ type: 'text', text: 'echo: Hello there' }])
      const structured = result.structuredContent as Record<string, unknown>
      assert.equal(structured.model, 'gpt-4.1-mini')
      assert.equal(structured.text, 'echo: Hello there')
      assert.equal(structured.finishReason, 'stop')
      assert.deepEqual(structured.usage, api === 'responses'
        ? { inputTokens: 11, outputTokens: 7, totalTokens: 18 }
        : { inputTokens: 13, outputTokens: 5, totalTokens: 18 })
      assert.match(String(structured.responseId), api === 'responses' ? /^resp_/ : /^chatcmpl-/)
    })

    test('sends the model, messages, parameters and the router key upstream', async () => {
      await client.callTool({
        name: 'chat',
        arguments: {
          model: 'gpt-4.1',
          system: 'Be brief.',
          messages: [
            { role: 'user', content: 'First question' },
            { role: 'assistant', content: [{ type: 'text', text: 'First answer' }] },
          ],
          prompt: 'Second question',
          temperature: 0.2,
          top_p: 0.9,
          max_tokens: 64,
        },
      })
      const [sent] = upstream.received(route)
      assert.ok(sent)
      assert.equal(sent.headers.authorization, `Bearer ${TEST_API_KEY}`)
      assert.match(String(sent.headers['x-client-request-id']), /^[\w.:-]+$/)
      assert.equal(sent.body.model, 'gpt-4.1')
      assert.equal(sent.body.temperature, 0.2)
      assert.equal(sent.body.top_p, 0.9)
      const conversation = [
        { role: 'user', content: 'First question' },
        { role: 'assistant', content: 'First answer' },
        { role: 'user', content: 'Second question' },
      ]
      if (api === 'responses') {
        assert.equal(sent.body.instructions, 'Be brief.')
        assert.equal(sent.body.max_output_tokens, 64)
        assert.deepEqual(sent.body.input, conversation.map((message) => ({ type: 'message', ...message })))
      } else {
        assert.equal(sent.body.max_tokens, 64)
        assert.deepEqual(sent.body.messages, [{ role: 'system', content: 'Be brief.' }, ...conversation])
      }
    })

    test('the default model is used when none is named', async () => {
      await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(upstream.received(route)[0]?.body.model, 'gpt-4.1-mini')
    })

    test('arguments that fail the schema are a tool error naming the field, with no upstream call', async () => {
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', temperature: 5 } })
      assert.equal(result.isError, true)
      assert.match(textOf(result), /temperature must be <= 2/)
      assert.equal(errorMeta(result).code, 'invalid_arguments')

      const wrongRole = await client.callTool({ name: 'chat', arguments: { messages: [{ role: 'robot', content: 'x' }] } })
      assert.match(textOf(wrongRole), /messages\[0\]\.role must be one of: system, developer, user, assistant/)

      const nothing = await client.callTool({ name: 'chat', arguments: {} })
      assert.match(textOf(nothing), /give `prompt`.*or `messages`/)
      assert.equal(upstream.received(route).length, 0)
    })

    const failures = [
      {
        name: '401 bad key',
        reply: { status: 401, json: errorBody('Incorrect API key provided: sk-test***.', 'invalid_request_error', 'invalid_api_key') },
        code: 'upstream_auth',
        message: /refused the router's credentials.*HTTP 401: Incorrect API key provided.*OPENAI_API_KEY/,
        retryable: false,
      },
      {
        name: '404 unknown model',
        reply: { status: 404, json: errorBody('The model `gpt-9` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found') },
        code: 'model_not_found',
        message: /does not know model "gpt-9".*list_models/,
        retryable: false,
        model: 'gpt-9',
      },
      {
        name: '429 rate limit',
        reply: { status: 429, json: errorBody('Rate limit reached for gpt-4.1-mini.', 'requests', 'rate_limit_exceeded'), headers: { 'retry-after': '7' } },
        code: 'rate_limited',
        message: /rate limiting model "gpt-4.1-mini".*Retry after 7 s/,
        retryable: true,
        retryAfterSeconds: 7,
      },
      {
        name: '429 quota exhausted',
        reply: { status: 429, json: errorBody('You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota') },
        code: 'quota_exceeded',
        message: /no quota left/,
        retryable: false,
      },
      {
        name: '500 upstream error',
        reply: { status: 503, json: errorBody('The server is overloaded.', 'server_error') },
        code: 'upstream_unavailable',
        message: /HTTP 503: The server is overloaded.*retry shortly/,
        retryable: true,
      },
      {
        name: 'dropped connection',
        reply: { drop: true },
        code: 'upstream_unavailable',
        message: /Cannot reach the upstream/,
        retryable: true,
      },
    ]
    for (const failure of failures) {
      test(`upstream ${failure.name} becomes an actionable tool error`, async () => {
        upstream.script(route, failure.reply)
        const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', ...(failure.model && { model: failure.model }) } })
        assert.equal(result.isError, true)
        assert.match(textOf(result), failure.message)
        const meta = errorMeta(result)
        assert.equal(meta.code, failure.code)
        assert.equal(meta.retryable, failure.retryable)
        assert.equal(typeof meta.requestId, 'string')
        if (failure.retryAfterSeconds) assert.equal(meta.retryAfterSeconds, failure.retryAfterSeconds)
        // The process keeps serving after every failure.
        const next = await client.callTool({ name: 'chat', arguments: { prompt: 'still there?' } })
        assert.equal(textOf(next), 'echo: still there?')
      })
    }

    test('a malformed upstream answer is a tool error, not a crash', async () => {
      upstream.script(route, { status: 200, json: { unexpected: true } })
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_invalid_response')
    })
  })
}

describe('chat limits', () => {
  test('a slow upstream times out at UPSTREAM_TIMEOUT_MS with a timeout error', async () => {
    const { upstream, client, close } = await startStack({ UPSTREAM_TIMEOUT_MS: '200' })
    try {
      upstream.script('POST /v1/responses', { delayMs: 2000, json: upstream.responseBody('gpt-4.1-mini', 'late') })
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'timeout')
      assert.match(textOf(result), /within 200 ms/)
    } finally {
      await close()
    }
  })

  test('an unreachable upstream is reported with its address', async () => {
    const upstream = await FakeOpenAI.start()
    const unreachable = upstream.baseURL
    await upstream.close()
    const router = await startRouter({ baseURL: unreachable })
    const client = await connectClient(router)
    try {
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(errorMeta(result).code, 'upstream_unavailable')
      assert.ok(textOf(result).includes(`Cannot reach the upstream at ${unreachable}`))
      assert.match(textOf(result), /\(ECONNREFUSED\)/)
    } finally {
      await client.close()
      await router.close()
    }
  })

  for (const [field, nested] of [
    ['tools', (schema: string) => `"tools":[{"type":"function","name":"f","parameters":${schema}}]`],
    ['response_format', (schema: string) => `"response_format":{"type":"json_schema","name":"answer","schema":${schema}}`],
  ] as const) {
    test(`a JSON Schema in ${field} nested 5,000 deep is invalid_arguments, with no upstream call`, async () => {
      const { upstream, router, close } = await startStack()
      try {
        // Written as text: no JSON serializer walks 5,000 levels on the way.
        const schema = `${'{"type":"object","properties":{"a":'.repeat(5000)}{"type":"string"}${'}}'.repeat(5000)}`
        const response = await postMcp(router, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"hi",${nested(schema)}}}}`)
        const { result } = await response.json() as { result: object }
        assert.equal(errorMeta(result).code, 'invalid_arguments')
        assert.match(textOf(result), /nest more than 64 levels deep/)
        assert.equal(upstream.received('POST /v1/responses').length, 0)
      } finally {
        await close()
      }
    })
  }
})
