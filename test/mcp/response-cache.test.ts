import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { canonicalJson } from '../../src/mcp/cached-call.js'
import { bearer, TEAM_A_KEY, writeClientsFile } from '../support/client-keys.js'
import { ManualClock } from '../support/clock.js'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta } from '../support/results.js'
import { connectClient, startRouter, startStack, type TestStack } from '../support/router.js'

const CHAT = 'POST /v1/responses'
const cacheOf = (result: object) => (result as { structuredContent?: { cache?: string } }).structuredContent?.cache
const textOf = (result: object) => (result as { structuredContent: { text: string } }).structuredContent.text

describe('response cache', () => {
  let stack: TestStack
  const clock = new ManualClock()

  // The router's clock moves only when a test moves it: a loaded machine's back-to-back calls always hit.
  before(async () => { stack = await startStack({ CACHE_TTL_S: '60' }, { clock: clock.now }) })
  after(() => stack.close())
  beforeEach(() => stack.upstream.reset())

  test('a repeated temperature-0 chat is answered from the cache, without an upstream call', async () => {
    const call = { name: 'chat', arguments: { prompt: 'What is 2+2?', temperature: 0 } }
    const first = await stack.client.callTool(call)
    const second = await stack.client.callTool(call)
    assert.equal(cacheOf(first), 'miss')
    assert.equal(cacheOf(second), 'hit')
    assert.equal(textOf(second), textOf(first))
    assert.deepEqual(second.content, first.content)
    assert.equal(stack.upstream.received(CHAT).length, 1)
  })

  test('any parameter that changes the answer is part of the key', async () => {
    await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Key test', temperature: 0 } })
    const variants = [
      { prompt: 'Key test!', temperature: 0 },
      { prompt: 'Key test', temperature: 0, max_tokens: 5 },
      { prompt: 'Key test', temperature: 0, model: 'gpt-4.1' },
      { prompt: 'Key test', temperature: 0, system: 'Be brief.' },
    ]
    for (const args of variants) assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: args })), 'miss', JSON.stringify(args))
    assert.equal(stack.upstream.received(CHAT).length, 1 + variants.length)
  })

  test('non-deterministic requests bypass the cache unless forced; no-store never uses it', async () => {
    const warm = { prompt: 'Tell a story' }
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: warm })), 'bypass')
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: warm })), 'bypass')
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: { ...warm, cache: 'force' } })), 'miss')
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: { ...warm, cache: 'force' } })), 'hit')
    const cold = { prompt: 'Exact sum', temperature: 0, cache: 'no-store' }
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: cold })), 'bypass')
    assert.equal(cacheOf(await stack.client.callTool({ name: 'chat', arguments: cold })), 'bypass')
    assert.equal(stack.upstream.received(CHAT).length, 5)
  })

  test('errors are never cached', async () => {
    stack.upstream.script(CHAT, { status: 400, json: errorBody('Bad request', 'invalid_request_error') })
    const call = { name: 'chat', arguments: { prompt: 'Fails first', temperature: 0 } }
    const failed = await stack.client.callTool(call)
    assert.equal(failed.isError, true)
    assert.equal(errorMeta(failed).code, 'upstream_rejected')
    assert.equal(cacheOf(await stack.client.callTool(call)), 'miss')
    assert.equal(cacheOf(await stack.client.callTool(call)), 'hit')
  })

  test('cut-off answers are never cached', async () => {
    stack.upstream.script(CHAT, { json: stack.upstream.responseBody('gpt-4.1-mini', 'partial', { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }) })
    const call = { name: 'chat', arguments: { prompt: 'Long answer', temperature: 0 } }
    assert.equal(cacheOf(await stack.client.callTool(call)), 'miss')
    assert.equal(cacheOf(await stack.client.callTool(call)), 'miss')
    assert.equal(stack.upstream.received(CHAT).length, 2)
  })

  test('a streamed call gets a cached answer as one progress notification, then the result', async () => {
    const call = { name: 'chat', arguments: { prompt: 'Stream me, cached', temperature: 0 } }
    await stack.client.callTool(call)
    const updates: Progress[] = []
    const result = await stack.client.callTool(call, undefined, { onprogress: (update) => updates.push(update) })
    assert.equal(cacheOf(result), 'hit')
    assert.deepEqual(updates.map((update) => update.message), [textOf(result)])
    assert.equal(stack.upstream.received(CHAT).length, 1)
  })

  test('an answer expires after CACHE_TTL_S', async () => {
    const call = { name: 'chat', arguments: { prompt: 'Expiring', temperature: 0 } }
    await stack.client.callTool(call)
    assert.equal(cacheOf(await stack.client.callTool(call)), 'hit')
    clock.advance(60_001)
    assert.equal(cacheOf(await stack.client.callTool(call)), 'miss')
  })

  test('embeddings are cached by default', async () => {
    const call = { name: 'embed', arguments: { input: ['a', 'b'], dimensions: 8 } }
    const first = await stack.client.callTool(call)
    const second = await stack.client.callTool(call)
    assert.equal(cacheOf(first), 'miss')
    assert.equal(cacheOf(second), 'hit')
    const embeddingsOf = (result: typeof first) => (result.structuredContent as { embeddings: unknown }).embeddings
    assert.deepEqual(embeddingsOf(second), embeddingsOf(first))
    assert.equal(stack.upstream.received('POST /v1/embeddings').length, 1)
    const metrics = parseExposition(await (await fetch(`${stack.router.url}/metrics`)).text())
    assert.equal(sampleValue(metrics, 'mcp_router_cache_lookups_total', { tool: 'embed', outcome: 'hit' }), 1)
  })
})

describe('response cache and token budgets', () => {
  test('cached answers spend none of the client\'s tokens', async () => {
    // 18 tokens an answer: a second upstream answer would cross 20 and refuse the call after it.
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerMinute: 20 }) })
    try {
      const client = await connectClient(router, bearer(TEAM_A_KEY))
      const call = { name: 'chat', arguments: { prompt: 'Budgeted', temperature: 0 } }
      for (let attempt = 0; attempt < 4; attempt++) assert.equal((await client.callTool(call)).isError, undefined)
      assert.equal(upstream.received(CHAT).length, 1)
      await client.close()
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('CACHE_TTL_S=0 turns the cache off', async () => {
    const stack = await startStack({ CACHE_TTL_S: '0' })
    try {
      const call = { name: 'chat', arguments: { prompt: 'No cache', temperature: 0 } }
      assert.equal(cacheOf(await stack.client.callTool(call)), 'bypass')
      assert.equal(cacheOf(await stack.client.callTool(call)), 'bypass')
      assert.equal(stack.upstream.received(CHAT).length, 2)
    } finally {
      await stack.close()
    }
  })
})

test('canonical JSON does not depend on key order', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null } }),
    canonicalJson({ a: { c: null, d: [{ x: 2, y: 1 }] }, b: 1 })
  )
  assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }))
})
