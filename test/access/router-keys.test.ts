import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { errorBody, type RecordedRequest } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { errorMeta, textOf } from '../support/results.js'
import { startStack, type TestStack, TEST_API_KEY } from '../support/router.js'
import { startRoutedStack } from '../support/routing.js'
import { waitFor } from '../support/wait-for.js'

// What some proxies and gateways answer a refused key with: the Authorization header as it came.
const echoingRefusal = (request: RecordedRequest) => ({
  status: 401,
  json: errorBody(`Incorrect API key provided: ${String(request.headers.authorization)}`, 'invalid_request_error', 'invalid_api_key'),
})

describe('the router\'s own keys never reach a client', () => {
  let stack: TestStack
  // Every delta its own progress message, as a slow stream would send them.
  before(async () => { stack = await startStack({ PROGRESS_INTERVAL_MS: '0' }) })
  after(async () => { await stack.close() })

  // First, before anything fills the model cache.
  test('list_models reporting a refused model list redacts the key it echoes', async () => {
    stack.upstream.script('GET /v1/models', echoingRefusal)
    const result = await stack.client.callTool({ name: 'list_models', arguments: {} })
    assert.match(textOf(result), /Incorrect API key provided: Bearer \[redacted\]/)
    assert.ok(!JSON.stringify(result).includes(TEST_API_KEY))
  })

  test('an upstream error echoing the Authorization header comes back with the key redacted', async () => {
    stack.upstream.script('POST /v1/responses', echoingRefusal)
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
    assert.equal(errorMeta(result).code, 'upstream_auth')
    assert.match(textOf(result), /Incorrect API key provided: Bearer \[redacted\]/)
    assert.ok(!JSON.stringify(result).includes(TEST_API_KEY), 'neither the text nor _meta holds the key')
  })

  test('a streamed answer spelling the key out in small deltas reaches neither the progress messages nor the result', async () => {
    stack.upstream.chunkSize = 3
    try {
      stack.upstream.script('POST /v1/responses', (request) => ({ json: stack.upstream.responseBody('gpt-4.1-mini', `You sent ${String(request.headers.authorization)}, thanks`) }))
      const updates: Progress[] = []
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: (update) => updates.push(update) })
      assert.ok(updates.length > 3, `several progress messages (${updates.length})`)
      const streamed = updates.map((update) => update.message ?? '').join('')
      assert.equal(streamed, 'You sent Bearer [redacted], thanks')
      assert.equal(textOf(result), streamed)
      assert.ok(!JSON.stringify(updates).includes(TEST_API_KEY.slice(0, 10)), 'no piece of the key either')
    } finally {
      stack.upstream.chunkSize = 4
    }
  })
})

test('a key that only a reloaded routing file brings is redacted from answers as well as logs', async () => {
  const logs = new LogCapture()
  // Not shaped like an OpenAI key: only the list of the router's own keys can know it.
  const azureKey = 'azure-0123456789abcdef0123456789abcdef'
  const stack = await startRoutedStack({ providers: [{ name: 'a' }] }, { LOG_LEVEL: 'info', LOG_BODIES: 'full', AZURE_TEST_KEY: azureKey }, logs)
  try {
    const azure = stack.upstreams.a
    assert.ok(azure)
    await stack.writeConfig({ providers: [{ name: 'a' }, { name: 'azure', baseURL: azure.baseURL, apiKeyEnv: 'AZURE_TEST_KEY' }] })
    process.kill(process.pid, 'SIGHUP')
    await waitFor(() => logs.find({ msg: 'routing configuration reloaded' }).length === 1, 'the reload')
    azure.script('POST /v1/responses', echoingRefusal)
    const result = await stack.client.callTool({ name: 'chat', arguments: { model: 'azure/gpt-4.1-mini', prompt: 'hi' } })
    assert.equal(errorMeta(result).code, 'upstream_auth')
    assert.match(textOf(result), /Bearer \[redacted\]/)
    assert.ok(!JSON.stringify(result).includes(azureKey))
    assert.ok(!logs.raw.join('\n').includes(azureKey))
  } finally {
    await stack.close()
  }
})

test('/ready, open to anyone, shows neither an echoed key nor more than a bounded quote of the upstream\'s message', async () => {
  const stack = await startStack()
  try {
    const padding = 'x'.repeat(50_000)
    stack.upstream.script('GET /v1/models', (request) => ({ status: 401, json: errorBody(`Incorrect API key provided: ${String(request.headers.authorization)}. ${padding}`, 'invalid_request_error', 'invalid_api_key') }))
    const body = await (await fetch(`${stack.router.url}/ready`)).text()
    assert.match(body, /Incorrect API key provided: Bearer \[redacted\]/)
    assert.ok(!body.includes(TEST_API_KEY))
    assert.ok(body.length < 10_000, `the quote is bounded (${body.length} characters)`)
    assert.match(body, /more characters\)/)
  } finally {
    await stack.close()
  }
})
