import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ScriptedReply } from '../support/fake-openai.js'
import { errorMeta, textOf } from '../support/results.js'
import { startStack, type TestStack } from '../support/router.js'
import { startRoutedStack } from '../support/routing.js'

const MAX_BODY_BYTES = 1024 * 1024
const HOSTILE_BYTES = 50 * 1024 * 1024

/** `bytes` of `filler` between a prefix and a suffix, in 64 KB chunks: a huge body the test never holds whole. */
function * hugeBody (prefix: string, bytes: number, suffix = ''): Iterable<string> {
  yield prefix
  const chunk = 'x'.repeat(64 * 1024)
  for (let written = 0; written < bytes; written += chunk.length) yield chunk
  yield suffix
}

/** The call's result, and how far the process's resident memory rose above where it was while it ran. */
async function withPeakRss (
  call: () => Promise<CallToolResult>
): Promise<{ result: CallToolResult, risenBytes: number }> {
  const baseline = process.memoryUsage.rss()
  let peak = baseline
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()) }, 10)
  try {
    const result = await call()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { result, risenBytes: peak - baseline }
  } finally {
    clearInterval(sampler)
  }
}

describe('a hostile upstream', () => {
  let stack: TestStack
  const chat = async (prompt: string, streamed = false) => stack.client.callTool(
    { name: 'chat', arguments: { prompt } },
    undefined,
    { timeout: 60_000, ...(streamed && { onprogress: () => {} }) }
  ) as Promise<CallToolResult>

  before(async () => {
    stack = await startStack({ UPSTREAM_MAX_BODY_BYTES: String(MAX_BODY_BYTES), UPSTREAM_MAX_RETRIES: '1', UPSTREAM_RETRY_BASE_MS: '1' })
  })
  after(async () => { await stack.close() })
  beforeEach(() => stack.upstream.reset())

  /** After any hostile answer, the next call is served as usual. */
  async function assertStillServing (): Promise<void> {
    const result = await chat('still there?')
    assert.equal(result.isError, undefined, textOf(result))
    assert.equal(textOf(result), 'echo: still there?')
  }

  for (const [kind, raw, headers] of [
    ['an HTML page', ['<html><body>Bad gateway</body></html>'], { 'content-type': 'text/html' }],
    ['an empty JSON body', [''], { 'content-type': 'application/json' }],
    ['an empty body without a type', [''], {}],
    ['JSON cut short', ['{"id": "resp_1", "output": ['], { 'content-type': 'application/json' }],
  ] as const) {
    test(`${kind} with status 200 is upstream_invalid_response, not a router bug`, async () => {
      stack.upstream.script('POST /v1/responses', { raw, headers })
      const result = await chat('hello')
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
      assert.equal(stack.upstream.received('POST /v1/responses').length, 1, 'not retried: the same answer would come back')
      await assertStillServing()
    })
  }

  test('a connection reset after the headers is retried like one before them', async () => {
    stack.upstream.script('POST /v1/responses', { raw: ['{"id": "resp_1", "out'], headers: { 'content-type': 'application/json' }, resetAfterRaw: true })
    const result = await chat('hello')
    assert.equal(result.isError, undefined, textOf(result))
    assert.equal(textOf(result), 'echo: hello')
    assert.equal(stack.upstream.received('POST /v1/responses').length, 2)
  })

  test('a reset after the headers, every time, is a retryable upstream_unavailable', async () => {
    const reset = { raw: ['{"id": "resp_1", "out'], headers: { 'content-type': 'application/json' }, resetAfterRaw: true }
    stack.upstream.script('POST /v1/responses', reset, reset)
    const result = await chat('hello')
    assert.equal(errorMeta(result).code, 'upstream_unavailable', textOf(result))
    assert.equal(errorMeta(result).retryable, true)
  })

  test('a 50 MB JSON answer is refused past UPSTREAM_MAX_BODY_BYTES without being held', async () => {
    stack.upstream.script('POST /v1/responses', { raw: hugeBody('{"id": "resp_1", "object": "response", "output": [], "padding": "', HOSTILE_BYTES, '"}'), headers: { 'content-type': 'application/json' } })
    const { result, risenBytes } = await withPeakRss(async () => chat('hello'))
    assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
    assert.match(textOf(result), /UPSTREAM_MAX_BODY_BYTES/)
    assert.ok(risenBytes < 32 * 1024 * 1024, `resident memory rose by ${Math.round(risenBytes / 1024 / 1024)} MB`)
    await assertStillServing()
  })

  test('a streamed answer with one 50 MB line is refused the same way', async () => {
    stack.upstream.script('POST /v1/responses', { raw: hugeBody('data: {"type": "response.output_text.delta", "delta": "', HOSTILE_BYTES), headers: { 'content-type': 'text/event-stream' } })
    const { result, risenBytes } = await withPeakRss(async () => chat('hello', true))
    assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
    assert.match(textOf(result), /UPSTREAM_MAX_BODY_BYTES/)
    assert.ok(risenBytes < 32 * 1024 * 1024, `resident memory rose by ${Math.round(risenBytes / 1024 / 1024)} MB`)
    await assertStillServing()
  })
})

describe('a 200 answer that is JSON but not what the API promises', () => {
  let stack: TestStack
  before(async () => {
    stack = await startStack({ UPSTREAM_MAX_RETRIES: '0' })
  })
  after(async () => { await stack.close() })
  beforeEach(() => stack.upstream.reset())

  const response = (overrides: Record<string, unknown>) => stack.upstream.responseBody('gpt-4.1-mini', 'hi', overrides)
  const cases: Array<[string, () => ScriptedReply, RegExp]> = [
    ['null', () => ({ json: null }), /answer that is null instead of an object/],
    ['a string', () => ({ json: 'hello' }), /answer that is a string instead of an object/],
    ['a number', () => ({ json: 42 }), /answer that is a number instead of an object/],
    ['output: null', () => ({ json: response({ output: null }) }), /output must be array/],
    ['output: {}', () => ({ json: response({ output: {} }) }), /output must be array/],
    ['an output item that is null', () => ({ json: response({ output: [null] }) }), /output\[0\] must be object/],
    ['a message whose content is null', () => ({ json: response({ output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: null }] }) }), /output\[0\]\.content must be array/],
    ['SSE to a call that asked for JSON', () => ({ raw: ['event: response.created\ndata: {"type":"response.created"}\n\n'], headers: { 'content-type': 'text/event-stream' } }), /an SSE stream to a call that asked for one JSON answer/],
  ]
  for (const [kind, reply, said] of cases) {
    test(`Responses: ${kind} is upstream_invalid_response`, async () => {
      stack.upstream.script('POST /v1/responses', reply())
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hello' } }) as CallToolResult
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
      assert.match(textOf(result), said)
    })
  }

  for (const [kind, json] of [
    ['null', null],
    ['data that is no list', { object: 'list', data: 'x', model: 'text-embedding-3-small' }],
    ['a null vector entry', { object: 'list', data: [null], model: 'text-embedding-3-small' }],
    ['a vector that is an object', { object: 'list', data: [{ object: 'embedding', index: 0, embedding: {} }], model: 'text-embedding-3-small' }],
    ['base64 that is no whole number of floats', { object: 'list', data: [{ object: 'embedding', index: 0, embedding: 'AAAAAAA=' }], model: 'text-embedding-3-small' }],
  ] as const) {
    test(`embeddings: ${kind} is upstream_invalid_response`, async () => {
      stack.upstream.script('POST /v1/embeddings', { json })
      const result = await stack.client.callTool({ name: 'embed', arguments: { input: 'hello' } }) as CallToolResult
      assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
    })
  }

  for (const [kind, json] of [['null', null], ['a null image', { created: 1, data: [null] }]] as const) {
    test(`images: ${kind} is upstream_invalid_response`, async () => {
      stack.upstream.script('POST /v1/images/generations', { json })
      const result = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat' } }) as CallToolResult
      assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
    })
  }

  test('a fallback takes the call on, as for any other upstream fault', async () => {
    const routed = await startRoutedStack({ providers: [{ name: 'a' }, { name: 'b' }], fallbacks: { 'a/gpt-4.1': ['b/gpt-4.1'] } }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      routed.upstreams.a?.script('POST /v1/responses', { json: null })
      const result = await routed.client.callTool({ name: 'chat', arguments: { prompt: 'hello', model: 'a/gpt-4.1' } }) as CallToolResult
      assert.equal(result.isError, undefined, textOf(result))
      assert.deepEqual((result.structuredContent as { attempts: unknown[] }).attempts, [
        { provider: 'a', model: 'gpt-4.1', outcome: 'upstream_invalid_response' },
        { provider: 'b', model: 'gpt-4.1', outcome: 'ok' },
      ])
    } finally {
      await routed.close()
    }
  })

  for (const [kind, usage] of [
    ['numbers written as text', { input_tokens: '1e9', output_tokens: 'x', total_tokens: '1e9' }],
    ['fractions', { input_tokens: 1.5, output_tokens: 2.25, total_tokens: 3.75 }],
    ['negative counts', { input_tokens: -1000, output_tokens: -5, total_tokens: -1005 }],
    ['a string in place of the object', 'lots'],
  ] as const) {
    for (const streamed of [false, true]) {
      test(`${kind}${streamed ? ', streamed,' : ''} leaves the answer whole and its usage unknown`, async () => {
        stack.upstream.script('POST /v1/responses', { json: stack.upstream.responseBody('gpt-4.1-mini', 'all there', { usage }) })
        const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hello' } }, undefined, streamed ? { onprogress: () => {} } : {}) as CallToolResult
        assert.equal(result.isError, undefined, textOf(result))
        assert.equal(textOf(result), 'all there')
        assert.equal((result.structuredContent as { usage?: unknown }).usage, undefined)
      })
    }
  }
})

describe('a 200 Chat Completions answer that is JSON but not the API\'s shape', () => {
  let stack: TestStack
  before(async () => {
    stack = await startStack({ UPSTREAM_API: 'chat_completions', UPSTREAM_MAX_RETRIES: '0' })
  })
  after(async () => { await stack.close() })
  beforeEach(() => stack.upstream.reset())

  const completion = (message: Record<string, unknown>) => ({ ...stack.upstream.chatCompletionBody('gpt-4.1-mini', 'hi'), choices: [{ index: 0, finish_reason: 'stop', message }] })
  const cases: Array<[string, () => ScriptedReply]> = [
    ['null', () => ({ json: null })],
    ['a string', () => ({ json: 'hello' })],
    ['no choices', () => ({ json: { ...stack.upstream.chatCompletionBody('gpt-4.1-mini', 'hi'), choices: [] } })],
    ['a tool call without its function', () => ({ json: completion({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function' }] }) })],
    ['SSE to a call that asked for JSON', () => ({ raw: ['data: {"id":"chatcmpl-1"}\n\n'], headers: { 'content-type': 'text/event-stream' } })],
  ]
  for (const [kind, reply] of cases) {
    test(`Chat Completions: ${kind} is upstream_invalid_response`, async () => {
      stack.upstream.script('POST /v1/chat/completions', reply())
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hello' } }) as CallToolResult
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_invalid_response', textOf(result))
    })
  }

  test('a message whose content is null is an empty answer, as OpenAI sends beside tool calls', async () => {
    stack.upstream.script('POST /v1/chat/completions', { json: completion({ role: 'assistant', content: null }) })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hello' } }) as CallToolResult
    assert.equal(result.isError, undefined, textOf(result))
  })

  test('usage that is not a count is unknown here too', async () => {
    stack.upstream.script('POST /v1/chat/completions', { json: { ...stack.upstream.chatCompletionBody('gpt-4.1-mini', 'all there'), usage: { prompt_tokens: '1e9', completion_tokens: -1, total_tokens: 0.5 } } })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hello' } }) as CallToolResult
    assert.equal(result.isError, undefined, textOf(result))
    assert.equal((result.structuredContent as { usage?: unknown }).usage, undefined)
  })
})
