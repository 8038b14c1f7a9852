import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorMeta, textOf } from '../support/results.js'
import { startStack, type TestStack } from '../support/router.js'

const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }]

/** A tool call from the upstream that the client could not answer is reported, naming what it lacks, never dropped. */
for (const api of ['chat_completions', 'responses'] as const) {
  describe(`malformed tool calls over ${api}`, () => {
    let stack: TestStack
    before(async () => { stack = await startStack({ UPSTREAM_API: api }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    const chat = async (stream = false) => stack.client.callTool({ name: 'chat', arguments: { prompt: 'Look it up', tools } }, undefined, stream ? { onprogress: () => {} } : undefined)

    if (api === 'chat_completions') {
      test('a call without `type` (so unread) behind finish_reason "tool_calls": upstream_invalid_response, not toolCalls: []', async () => {
        const completion = stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls')
        completion.choices[0]!.message = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', function: { name: 'lookup', arguments: '{}' } }] } as never
        stack.upstream.script('POST /v1/chat/completions', { json: completion })
        const result = await chat()
        assert.equal(errorMeta(result).code, 'upstream_invalid_response')
        // Named either way: by the stop for tool calls without one, or by the answer's shape check,
        // which reads the call first.
        assert.match(textOf(result), /tool_calls/)
        assert.match(textOf(result), /\btype\b/)
      })

      test('a call without `id`: named, with the call', async () => {
        stack.upstream.script('POST /v1/chat/completions', { json: stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls', [{ id: '', name: 'lookup', arguments: '{}' }]) })
        const result = await chat()
        assert.equal(errorMeta(result).code, 'upstream_invalid_response')
        assert.match(textOf(result), /a Chat Completions tool call \(index 0, "lookup"\) without `id`/)
      })

      test('streamed fragments without `index`: reported, not dropped', async () => {
        const chunk = (delta: object, finish: string | null = null) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1-mini', choices: [{ index: 0, delta, finish_reason: finish }] })
        stack.upstream.script('POST /v1/chat/completions', {
          sse: [
            chunk({ role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }] }),
            chunk({}, 'tool_calls'),
            '[DONE]',
          ],
        })
        const result = await chat(true)
        assert.equal(errorMeta(result).code, 'upstream_invalid_response')
        assert.match(textOf(result), /finish_reason "tool_calls"\) without a tool call it could read/)
      })
    } else {
      test('a function_call without `call_id` or `arguments`: named', async () => {
        const response = stack.upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'x', name: 'lookup', arguments: '{}' }]) as { output: Array<Record<string, unknown>> }
        for (const item of response.output) {
          delete item.call_id
          delete item.arguments
        }
        stack.upstream.script('POST /v1/responses', { json: response })
        const result = await chat()
        assert.equal(errorMeta(result).code, 'upstream_invalid_response')
        assert.match(textOf(result), /call_id/)
        assert.match(textOf(result), /arguments/)
      })
    }

    test('a well-formed call still comes back to the client', async () => {
      const call = { id: 'call_ok', name: 'lookup', arguments: '{"q":1}' }
      if (api === 'chat_completions') stack.upstream.script('POST /v1/chat/completions', { json: stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls', [call]) })
      else stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [call]) })
      const result = await chat()
      assert.equal(result.isError, undefined)
      assert.deepEqual((result.structuredContent as { toolCalls: unknown[] }).toolCalls, [{ id: 'call_ok', name: 'lookup', arguments: { q: 1 } }])
    })
  })
}
