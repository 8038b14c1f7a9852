import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ToolError } from '../../../../src/errors.js'
import { type ChatArgumentsType, toChatRequest } from '../../../../src/mcp/tools/chat/chat-arguments.js'

const refusal = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ToolError)
  assert.equal(err.code, 'invalid_arguments')
  assert.equal(err.details.retryable, false)
  assert.match(err.message, /^Invalid arguments for chat: /)
  assert.match(err.message, pattern)
  return true
}

describe('chat\'s arguments as one upstream request (toChatRequest)', () => {
  test('a prompt follows the messages as the last user turn; snake_case settings take the router\'s names; unset ones stay unset', () => {
    const args: ChatArgumentsType = {
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Earlier question' }, { role: 'assistant', content: 'Earlier answer' }],
      prompt: 'And now?',
      temperature: 0,
      top_p: 0.5,
      max_tokens: 100,
      parallel_tool_calls: false,
      store: false,
      reasoning_effort: 'low',
      verbosity: 'high',
    }
    assert.deepEqual(toChatRequest(args, 'responses', 'gpt-5'), {
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'Earlier question' }, { role: 'assistant', content: 'Earlier answer' }, { role: 'user', content: 'And now?' }],
      instructions: 'Be brief.',
      temperature: 0,
      topP: 0.5,
      maxOutputTokens: 100,
      parallelToolCalls: false,
      store: false,
      reasoningEffort: 'low',
      verbosity: 'high',
    })
    assert.deepEqual(toChatRequest({ prompt: 'hi' }, 'chat_completions', 'gpt-4.1'), { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] })
  })

  test('image parts in their three forms become image URLs; a tool turn and both forms of tool calls keep their ids', () => {
    const request = toChatRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: 'https://example.com/cat.png' },
            { type: 'image_url', image_url: { url: 'https://example.com/dog.png', detail: 'low' } },
            { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'cat' } }, { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"dog"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a cat' }, { type: 'text', text: 'probably' }] },
      ],
    }, 'chat_completions', 'gpt-4.1')
    assert.deepEqual(request.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', url: 'https://example.com/cat.png' },
          { type: 'image', url: 'https://example.com/dog.png', detail: 'low' },
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
        ],
      },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"cat"}' }, { id: 'call_2', name: 'lookup', arguments: '{"q":"dog"}' }] },
      { role: 'tool', toolCallId: 'call_1', content: 'a cat\nprobably' },
    ])
  })

  test('function tools in the flat and the Chat Completions form are one definition; hosted tools and tool outputs pass as given', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } } }
    // A hosted tool's own settings are more than the schema names (it lets them through).
    const webSearch = { type: 'web_search', search_context_size: 'low' }
    const request = toChatRequest({
      prompt: 'Weather?',
      tools: [
        { type: 'function', name: 'get_weather', parameters },
        { type: 'function', function: { name: 'get_time', description: 'The time', strict: true } },
        webSearch,
      ],
      tool_choice: { type: 'function', name: 'get_weather' },
      tool_outputs: [{ call_id: 'call_9', output: '21 °C' }],
      previous_response_id: 'resp_8',
      response_format: { type: 'json_object' },
    }, 'responses', 'gpt-4.1')
    assert.deepEqual(request.tools, [
      { type: 'function', name: 'get_weather', parameters },
      { type: 'function', name: 'get_time', description: 'The time', strict: true },
      { type: 'web_search', search_context_size: 'low' },
    ])
    assert.deepEqual(request.toolChoice, { type: 'function', name: 'get_weather' })
    assert.deepEqual(request.toolOutputs, [{ callId: 'call_9', output: '21 °C' }])
    assert.equal(request.previousResponseId, 'resp_8')
    assert.deepEqual(request.responseFormat, { type: 'json_object' })
  })

  test('what the schema cannot say is refused with a message naming the argument', () => {
    const cases: Array<[ChatArgumentsType, 'responses' | 'chat_completions', RegExp]> = [
      [{}, 'responses', /give `prompt` \(a string\) or `messages`/],
      [{ messages: [{ role: 'user', content: 'x', tool_calls: [{ id: 'c', name: 'f', arguments: '{}' }] }] }, 'responses', /messages\[0\]\.tool_calls belongs on assistant messages only/],
      [{ messages: [{ role: 'user', content: 'x', tool_call_id: 'c' }] }, 'responses', /messages\[0\]\.tool_call_id belongs on tool messages only/],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'responses', /messages\[0\]\.tool_call_id is required on tool messages/],
      [{ messages: [{ role: 'user' }] }, 'responses', /messages\[0\]\.content is required/],
      [{ messages: [{ role: 'assistant', content: [{ type: 'image_url', image_url: 'https://example.com/x.png' }] }] }, 'responses', /messages\[0\]: images go in user messages only/],
      [{ prompt: 'x', tools: [{ type: 'function', description: 'nameless' }] }, 'responses', /tools\[0\]\.name is required for function tools/],
      [{ prompt: 'x', tools: [{ type: 'web_search' }] }, 'chat_completions', /"web_search" is a hosted tool of the Responses API/],
      [{ prompt: 'x', previous_response_id: 'resp_1' }, 'chat_completions', /previous_response_id needs the Responses API/],
      [{ prompt: 'x', background: true }, 'chat_completions', /background needs the Responses API/],
      [{ prompt: 'x', background: true, store: false }, 'responses', /background needs store/],
      [{ prompt: 'x', background: true, agent: true }, 'responses', /background cannot be combined with use_tools or agent/],
    ]
    for (const [args, api, pattern] of cases) {
      assert.throws(() => toChatRequest(args, api, 'gpt-4.1'), refusal(pattern), `${JSON.stringify(args)} on ${api}`)
    }
  })
})
