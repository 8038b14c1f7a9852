import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatCompletion } from 'openai/resources/chat/completions'
import type { Response } from 'openai/resources/responses/responses'
import { ToolError } from '../../src/errors.js'
import { withoutUnsupportedParameters } from '../../src/upstream/chat.js'
import { fromChatCompletion } from '../../src/upstream/chat-completions-api.js'
import { fromResponse } from '../../src/upstream/responses-api.js'

// Upstream answers as the wire carries them: only the fields the translators read are written out.
const response = (fields: object) => ({ id: 'resp_1', object: 'response', model: 'gpt-4.1-2025-04-14', status: 'completed', output: [], ...fields }) as unknown as Response
const completion = (fields: object) => ({ id: 'chatcmpl_1', object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [], ...fields }) as unknown as ChatCompletion
const usage = { input_tokens: 12, output_tokens: 5, total_tokens: 17 }

describe('a Responses API answer as a chat result (fromResponse)', () => {
  test('message text and refusals are joined in order; function calls keep their ids and JSON text; usage in the router\'s words', () => {
    const result = fromResponse(response({
      output: [
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello, ' }, { type: 'refusal', refusal: 'no more.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      ],
      usage,
    }))
    assert.deepEqual(result, {
      model: 'gpt-4.1-2025-04-14',
      text: 'Hello, no more.',
      finishReason: 'tool_calls',
      status: 'completed',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      usage: { inputTokens: 12, outputTokens: 5, totalTokens: 17 },
      responseId: 'resp_1',
    })
  })

  test('the status decides the finish reason: cut at max_output_tokens is "length", background states are pending', () => {
    const finish = (fields: object) => fromResponse(response(fields)).finishReason
    assert.equal(finish({}), 'stop')
    assert.equal(finish({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }), 'length')
    assert.equal(finish({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } }), 'content_filter')
    assert.equal(finish({ status: 'incomplete' }), 'incomplete')
    assert.equal(finish({ status: 'cancelled' }), 'cancelled')
    assert.equal(finish({ status: 'queued' }), 'pending')
    assert.equal(finish({ status: 'in_progress' }), 'pending')
    assert.equal(fromResponse(response({ status: 'incomplete' })).status, 'incomplete')
  })

  test('a failed response is a retryable upstream_unavailable naming the response and its reason', () => {
    assert.throws(() => fromResponse(response({ status: 'failed', error: { code: 'server_error', message: 'The model crashed' } })), (err: unknown) => {
      assert.ok(err instanceof ToolError)
      assert.equal(err.code, 'upstream_unavailable')
      assert.equal(err.details.retryable, true)
      assert.match(err.message, /response resp_1\): The model crashed/)
      return true
    })
  })

  test('an answer that is not a response is upstream_invalid_response, not a crash', () => {
    for (const answer of [undefined, {}, { id: 'resp_1' }, { output: [] }, { id: 7, output: [] }]) {
      assert.throws(() => fromResponse(answer as unknown as Response), (err: unknown) => err instanceof ToolError && err.code === 'upstream_invalid_response', JSON.stringify(answer))
    }
  })
})

describe('a Chat Completions answer as a chat result (fromChatCompletion)', () => {
  test('the first choice\'s text, finish reason and function calls; usage in the router\'s words', () => {
    const result = fromChatCompletion(completion({
      choices: [{
        index: 0,
        finish_reason: 'tool_calls',
        message: { role: 'assistant', content: 'Looking it up.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    }))
    assert.deepEqual(result, {
      model: 'gpt-4.1-2025-04-14',
      text: 'Looking it up.',
      finishReason: 'tool_calls',
      status: 'completed',
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      usage: { inputTokens: 12, outputTokens: 5, totalTokens: 17 },
      responseId: 'chatcmpl_1',
    })
  })

  test('a refusal is the text; "length" and "content_filter" are incomplete; a missing finish reason is "stop"; no usage, no usage field', () => {
    const refused = fromChatCompletion(completion({ choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' } }] }))
    assert.equal(refused.text, 'I cannot help with that.')
    assert.equal('usage' in refused, false)
    for (const [reason, status] of [['length', 'incomplete'], ['content_filter', 'incomplete'], ['stop', 'completed']] as const) {
      assert.equal(fromChatCompletion(completion({ choices: [{ index: 0, finish_reason: reason, message: { role: 'assistant', content: 'x' } }] })).status, status, reason)
    }
    assert.equal(fromChatCompletion(completion({ choices: [{ index: 0, message: { role: 'assistant', content: 'x' } }] })).finishReason, 'stop')
  })

  test('custom (non-function) tool calls are left out: the router runs function tools only', () => {
    const result = fromChatCompletion(completion({
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_c', type: 'custom', custom: { name: 'grammar', input: 'x' } }] } }],
    }))
    assert.deepEqual(result.toolCalls, [])
    assert.equal(result.text, '')
  })

  test('an answer without an id or a choice is upstream_invalid_response, not a crash', () => {
    for (const answer of [undefined, {}, { id: 'chatcmpl_1', choices: [] }, { choices: [{ index: 0, message: { content: 'x' } }] }]) {
      assert.throws(() => fromChatCompletion(answer as unknown as ChatCompletion), (err: unknown) => err instanceof ToolError && err.code === 'upstream_invalid_response', JSON.stringify(answer))
    }
  })
})

describe('parameters a model family refuses are left out, and named (withoutUnsupportedParameters)', () => {
  const request = { messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0.2, topP: 0.9, reasoningEffort: 'low' as const, verbosity: 'low' as const, maxOutputTokens: 50 }

  test('reasoning models lose sampling; GPT-4 models lose reasoning_effort and verbosity; o-series keep reasoning_effort only', () => {
    assert.deepEqual(withoutUnsupportedParameters({ ...request, model: 'gpt-5-mini' }), {
      request: { messages: request.messages, reasoningEffort: 'low', verbosity: 'low', maxOutputTokens: 50, model: 'gpt-5-mini' },
      dropped: ['temperature', 'top_p'],
    })
    assert.deepEqual(withoutUnsupportedParameters({ ...request, model: 'gpt-4.1' }), {
      request: { messages: request.messages, temperature: 0.2, topP: 0.9, maxOutputTokens: 50, model: 'gpt-4.1' },
      dropped: ['reasoning_effort', 'verbosity'],
    })
    assert.deepEqual(withoutUnsupportedParameters({ ...request, model: 'openai/o3' }).dropped, ['temperature', 'top_p', 'verbosity'], 'the family is read after an aggregator\'s vendor prefix')
  })

  test('a model the router does not know keeps every parameter (its upstream decides), and the caller\'s request is not changed', () => {
    const given = { ...request, model: 'llama-3.3-70b' }
    assert.deepEqual(withoutUnsupportedParameters(given), { request: given, dropped: [] })
    const { request: kept } = withoutUnsupportedParameters({ ...request, model: 'gpt-5' })
    assert.notEqual(kept, request)
    assert.equal(request.temperature, 0.2)
  })
})
