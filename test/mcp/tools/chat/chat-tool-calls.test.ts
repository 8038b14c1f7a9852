import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorMeta, textOf } from '../../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../../support/app.js'

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
}

const calls = [
  { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
  { id: 'call_2', name: 'get_weather', arguments: '{"city": Oslo' },
]

interface ChatStructured {
  finishReason: string
  responseId: string
  toolCalls: Array<{ id: string, name: string, arguments: unknown }>
}

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`function tools over the ${api} API`, () => {
    let stack: InProcessStack
    before(async () => { stack = await startInProcessStack({ UPSTREAM_API: api }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    const askForCalls = () => stack.upstream.script(route, {
      json: api === 'responses'
        ? stack.upstream.functionCallResponse('gpt-4.1-mini', calls)
        : stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls', calls),
    })

    test('tools, tool_choice and parallel_tool_calls reach the upstream in its own form', async () => {
      await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather?', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false, store: false } })
      const { body } = stack.upstream.received(route)[0]!
      assert.equal(body.parallel_tool_calls, false)
      assert.equal(body.store, false)
      const { type, ...fn } = weatherTool
      if (api === 'responses') {
        assert.deepEqual(body.tools, [weatherTool])
        assert.deepEqual(body.tool_choice, { type: 'function', name: 'get_weather' })
      } else {
        assert.deepEqual(body.tools, [{ type, function: fn }])
        assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_weather' } })
      }
    })

    test('the Chat Completions form of a function tool is accepted too', async () => {
      const { type, ...fn } = weatherTool
      await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather?', tools: [{ type, function: fn }], tool_choice: 'required' } })
      const { body } = stack.upstream.received(route)[0]!
      assert.deepEqual(body.tools, api === 'responses' ? [weatherTool] : [{ type, function: fn }])
      assert.equal(body.tool_choice, 'required')
    })

    for (const streamed of [false, true]) {
      test(`calls the model asks for come back parsed in toolCalls${streamed ? ' (streamed)' : ''}`, async () => {
        askForCalls()
        const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather in Paris and Oslo?', tools: [weatherTool] } }, undefined, streamed ? { onprogress: () => {} } : {})
        assert.equal(result.isError, undefined)
        const structured = result.structuredContent as unknown as ChatStructured
        assert.equal(structured.finishReason, 'tool_calls')
        assert.deepEqual(structured.toolCalls, [
          { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } },
          { id: 'call_2', name: 'get_weather', arguments: '{"city": Oslo' },
        ])
        assert.match(textOf(result), /asks for 2 function calls:\n- get_weather\(\{"city":"Paris"\}\) \[call_id call_1\]/)
        assert.match(textOf(result), api === 'responses' ? new RegExp(`tool_outputs .* previous_response_id "${structured.responseId}"`) : /tool_call_id/)
      })
    }

    test('invalid tool definitions and tool messages are refused with the field named', async () => {
      const nameless = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', tools: [{ type: 'function', description: 'no name' }] } })
      assert.match(textOf(nameless), /tools\[0\]\.name is required for function tools/)
      const orphan = await stack.client.callTool({ name: 'chat', arguments: { messages: [{ role: 'tool', content: '{}' }] } })
      assert.match(textOf(orphan), /messages\[0\]\.tool_call_id is required on tool messages/)
      const misplaced = await stack.client.callTool({ name: 'chat', arguments: { messages: [{ role: 'user', content: 'x', tool_call_id: 'call_1' }] } })
      assert.match(textOf(misplaced), /messages\[0\]\.tool_call_id belongs on tool messages only/)
      assert.equal(errorMeta(misplaced).code, 'invalid_arguments')
      assert.equal(stack.upstream.received(route).length, 0)
    })
  })
}

describe('the function-call round trip', () => {
  test('Responses API: tool_outputs with previous_response_id', async () => {
    const stack = await startInProcessStack({ UPSTREAM_API: 'responses' })
    try {
      stack.upstream.script('POST /v1/responses', { json: stack.upstream.functionCallResponse('gpt-4.1-mini', [calls[0]!]) })
      const first = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather in Paris?', tools: [weatherTool] } })
      const { responseId, toolCalls } = first.structuredContent as unknown as ChatStructured
      const second = await stack.client.callTool({
        name: 'chat',
        arguments: { previous_response_id: responseId, tool_outputs: [{ call_id: toolCalls[0]!.id, output: '{"celsius":21}' }], tools: [weatherTool] },
      })
      assert.equal(textOf(second), 'echo: tool result {"celsius":21}')
      const { body } = stack.upstream.received('POST /v1/responses')[1]!
      assert.equal(body.previous_response_id, responseId)
      assert.deepEqual(body.input, [{ type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' }])
    } finally {
      await stack.close()
    }
  })

  test('Chat Completions: the history with the assistant tool_calls and tool messages', async () => {
    const stack = await startInProcessStack({ UPSTREAM_API: 'chat_completions' })
    try {
      stack.upstream.script('POST /v1/chat/completions', { json: stack.upstream.chatCompletionBody('gpt-4.1-mini', null, 'tool_calls', [calls[0]!]) })
      const first = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Weather in Paris?', tools: [weatherTool] } })
      const { toolCalls } = first.structuredContent as unknown as ChatStructured
      const second = await stack.client.callTool({
        name: 'chat',
        arguments: {
          tools: [weatherTool],
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            { role: 'assistant', content: null, tool_calls: toolCalls },
            { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
          ],
        },
      })
      assert.equal(textOf(second), 'echo: tool result {"celsius":21}')
      assert.deepEqual(stack.upstream.received('POST /v1/chat/completions')[1]!.body.messages, [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
      ])
    } finally {
      await stack.close()
    }
  })

  test('Responses API: a history with tool turns becomes function_call items', async () => {
    const stack = await startInProcessStack({ UPSTREAM_API: 'responses' })
    try {
      await stack.client.callTool({
        name: 'chat',
        arguments: {
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
            { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
          ],
        },
      })
      assert.deepEqual(stack.upstream.received('POST /v1/responses')[0]!.body.input, [
        { type: 'message', role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' },
      ])
    } finally {
      await stack.close()
    }
  })

  test('hosted tools and previous_response_id need the Responses API', async () => {
    const stack = await startInProcessStack({ UPSTREAM_API: 'chat_completions' })
    try {
      const hosted = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'news?', tools: [{ type: 'web_search' }] } })
      assert.equal(errorMeta(hosted).code, 'invalid_arguments')
      assert.match(textOf(hosted), /"web_search" is a hosted tool of the Responses API/)
      const chained = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'and?', previous_response_id: 'resp_1' } })
      assert.match(textOf(chained), /previous_response_id needs the Responses API/)
      assert.equal(stack.upstream.received('POST /v1/chat/completions').length, 0)
    } finally {
      await stack.close()
    }
  })

  test('hosted tools pass through to the Responses API as given', async () => {
    const stack = await startInProcessStack({ UPSTREAM_API: 'responses' })
    try {
      const mcpTool = { type: 'mcp', server_label: 'docs', server_url: 'https://mcp.example/mcp', require_approval: 'never' }
      await stack.client.callTool({ name: 'chat', arguments: { prompt: 'search', tools: [{ type: 'web_search' }, { type: 'code_interpreter', container: { type: 'auto' } }, mcpTool] } })
      assert.deepEqual(stack.upstream.received('POST /v1/responses')[0]!.body.tools, [{ type: 'web_search' }, { type: 'code_interpreter', container: { type: 'auto' } }, mcpTool])
    } finally {
      await stack.close()
    }
  })
})
