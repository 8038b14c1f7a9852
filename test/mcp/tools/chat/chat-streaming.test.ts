import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../../support/app.js'

const longPrompt = 'Tell me a story about a lighthouse keeper and the sea, in several sentences please.'

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`streamed chat over the ${api} API`, () => {
    let stack: InProcessStack
    before(async () => { stack = await startInProcessStack({ UPSTREAM_API: api, PROGRESS_INTERVAL_MS: '0' }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    test('a progress token streams the answer as progress notifications; the result is the same as unstreamed', async () => {
      const updates: Progress[] = []
      const streamed = await stack.client.callTool({ name: 'chat', arguments: { prompt: longPrompt } }, undefined, { onprogress: (update) => updates.push(update) })
      const plain = await stack.client.callTool({ name: 'chat', arguments: { prompt: longPrompt } })

      const [streamedRequest, plainRequest] = stack.upstream.received(route)
      assert.equal(streamedRequest?.body.stream, true)
      assert.equal(plainRequest?.body.stream, undefined)
      if (api === 'chat_completions') assert.deepEqual(streamedRequest?.body.stream_options, { include_usage: true })

      assert.ok(updates.length > 1, `several notifications (${updates.length})`)
      assert.equal(updates.map((update) => update.message ?? '').join(''), `echo: ${longPrompt}`)
      updates.forEach((update, index) => assert.equal(update.progress, index + 1))
      assert.deepEqual(streamed.content, plain.content)
      const { responseId: _streamedId, ...streamedRest } = streamed.structuredContent as Record<string, unknown>
      const { responseId: _plainId, ...plainRest } = plain.structuredContent as Record<string, unknown>
      assert.deepEqual(streamedRest, plainRest)
      assert.ok((streamed.structuredContent as { usage?: unknown }).usage, 'usage arrives with the stream')
    })

    test('text arriving faster than PROGRESS_INTERVAL_MS is batched', async () => {
      const batched = await startInProcessStack({ UPSTREAM_API: api, PROGRESS_INTERVAL_MS: '200' })
      try {
        batched.upstream.chunkSize = 1
        const updates: Progress[] = []
        const result = await batched.client.callTool({ name: 'chat', arguments: { prompt: longPrompt } }, undefined, { onprogress: (update) => updates.push(update) })
        const deltas = `echo: ${longPrompt}`.length
        assert.ok(updates.length < deltas / 10, `${updates.length} notifications for ${deltas} deltas`)
        assert.equal(updates.map((update) => update.message ?? '').join(''), textOf(result))
      } finally {
        await batched.close()
      }
    })

    test('a stream that breaks off is a tool error saying how much arrived', async () => {
      stack.upstream.script(route, { json: api === 'responses' ? stack.upstream.responseBody('gpt-4.1-mini', 'abcdefghijklmnop') : stack.upstream.chatCompletionBody('gpt-4.1-mini', 'abcdefghijklmnop'), dropAfterEvents: api === 'responses' ? 6 : 3 })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: () => {} })
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_unavailable')
      assert.match(textOf(result), /stream broke off after 8 characters/)
    })

    test('a malformed event ends the call with a tool error', async () => {
      const body = api === 'responses' ? stack.upstream.responseBody('gpt-4.1-mini', 'abcdefgh') : stack.upstream.chatCompletionBody('gpt-4.1-mini', 'abcdefgh')
      const events = api === 'responses' ? stack.upstream.responseEvents(body) : stack.upstream.chatCompletionChunks(body)
      stack.upstream.script(route, { sse: [...events.slice(0, 3), 'data: {"type": not json\n\n', ...events.slice(3)] })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: () => {} })
      assert.equal(result.isError, true)
      assert.match(textOf(result), /stream broke off after \d+ characters of the answer \(a malformed event\)/)
    })

    test('an error event in the middle of a stream is a tool error with the upstream\'s words', async () => {
      const body = api === 'responses' ? stack.upstream.responseBody('gpt-4.1-mini', 'abcdefgh') : stack.upstream.chatCompletionBody('gpt-4.1-mini', 'abcdefgh')
      const events = api === 'responses' ? stack.upstream.responseEvents(body) : stack.upstream.chatCompletionChunks(body)
      const failure = api === 'responses'
        ? 'event: error\ndata: {"type":"error","code":"server_error","message":"The model broke.","param":null,"sequence_number":9}\n\n'
        : 'data: {"error":{"message":"The model broke.","type":"server_error","param":null,"code":null}}\n\n'
      stack.upstream.script(route, { sse: [...events.slice(0, api === 'responses' ? 5 : 2), failure] })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: () => {} })
      assert.equal(errorMeta(result).code, 'upstream_unavailable')
      assert.match(textOf(result), /stream broke off after 4 characters of the answer \(the upstream reported: The model broke\.\)/)
    })

    test('a stream that ends without finishing is a tool error, not a hang', async () => {
      const body = api === 'responses' ? stack.upstream.responseBody('gpt-4.1-mini', 'abcdefgh') : stack.upstream.chatCompletionBody('gpt-4.1-mini', 'abcdefgh')
      const events = api === 'responses' ? stack.upstream.responseEvents(body) : stack.upstream.chatCompletionChunks(body)
      stack.upstream.script(route, { sse: events.slice(0, -2) })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: () => {} })
      assert.equal(result.isError, true)
      assert.match(textOf(result), /stream broke off after \d+ characters.*ended/)
    })

    test('an upstream refusal before the stream starts is the usual tool error', async () => {
      stack.upstream.script(route, { status: 429, json: { error: { message: 'Slow down.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '3' } })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: () => {} })
      assert.equal(errorMeta(result).code, 'rate_limited')
      assert.equal(errorMeta(result).retryAfterSeconds, 3)
    })
  })
}

describe('heartbeats', () => {
  test('a quiet upstream gets message-less heartbeats every PROGRESS_HEARTBEAT_MS, streamed or not', async () => {
    const stack = await startInProcessStack({ PROGRESS_HEARTBEAT_MS: '100' })
    try {
      stack.upstream.script('POST /v1/responses', { delayMs: 550, json: stack.upstream.responseBody('gpt-4.1-mini', 'late answer') })
      const updates: Progress[] = []
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: (update) => updates.push(update), timeout: 300, resetTimeoutOnProgress: true })
      assert.equal(textOf(result), 'late answer')
      const heartbeats = updates.filter((update) => update.message === undefined)
      assert.ok(heartbeats.length >= 3, `${heartbeats.length} heartbeats`)
      updates.forEach((update, index) => assert.equal(update.progress, index + 1))
    } finally {
      await stack.close()
    }
  })

  test('calls without a progress token get no notifications and are not streamed', async () => {
    const stack = await startInProcessStack({ PROGRESS_HEARTBEAT_MS: '100' })
    try {
      stack.upstream.script('POST /v1/responses', { delayMs: 300, json: stack.upstream.responseBody('gpt-4.1-mini', 'answer') })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(textOf(result), 'answer')
      assert.equal(stack.upstream.received('POST /v1/responses')[0]?.body.stream, undefined)
    } finally {
      await stack.close()
    }
  })
})
