import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ChatAnswer } from '../../../src/mcp/tools/chat/chat-answer.js'
import { cachedChatAnswers } from '../../../src/mcp/tools/chat/chat-answer.js'
import { chatToolResult } from '../../../src/mcp/tools/chat/chat-result.js'
import { embeddingToolResult } from '../../../src/mcp/tools/embed.js'
import { imageToolResult } from '../../../src/mcp/tools/generate-image.js'

const routing = { provider: 'local', attempts: [{ provider: 'openai', model: 'gpt-4.1', outcome: 'timeout' }, { provider: 'local', model: 'llama3', outcome: 'ok' }] }

const answer: ChatAnswer = {
  result: {
    model: 'gpt-4.1-mini',
    text: 'Calling the weather.',
    finishReason: 'tool_calls',
    status: 'completed',
    toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 'call_2', name: 'echo', arguments: 'not json' }],
    usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    responseId: 'resp_1',
  },
  api: 'responses',
  routing,
  droppedParameters: ['temperature'],
}

const textOf = (result: { content: Array<{ type: string, text?: string }> }) => result.content.flatMap((block) => block.type === 'text' ? [block.text] : []).join('')

describe('a chat answer as an MCP result (chatToolResult)', () => {
  test('structuredContent has the answer, parsed call arguments, who answered and the cache outcome', () => {
    const result = chatToolResult(answer, 'miss')
    assert.deepEqual(result.structuredContent, {
      model: 'gpt-4.1-mini',
      text: 'Calling the weather.',
      finishReason: 'tool_calls',
      status: 'completed',
      toolCalls: [{ id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } }, { id: 'call_2', name: 'echo', arguments: 'not json' }],
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      responseId: 'resp_1',
      droppedParameters: ['temperature'],
      ...routing,
      cache: 'miss',
    })
    assert.equal(result.isError, undefined)
  })

  test('the text says how to answer the calls over the API that answered, and what was not sent', () => {
    const text = textOf(chatToolResult(answer))
    assert.match(text, /^Calling the weather\.\n\nThe model asks for 2 function calls:\n- weather\(\{"city":"Oslo"\}\) \[call_id call_1\]/)
    assert.match(text, /call chat again with tool_outputs \[\{call_id, output\}\] and previous_response_id "resp_1"/)
    assert.match(text, /\(Not sent to gpt-4\.1-mini, which does not accept them: temperature\.\)$/)
    assert.match(textOf(chatToolResult({ ...answer, api: 'chat_completions' })), /one \{role: "tool", tool_call_id, content\} message per call/)
  })

  test('a running response names get_response; without a cache outcome there is no cache field', () => {
    const running = chatToolResult({ result: { ...answer.result, text: '', status: 'in_progress', toolCalls: [] }, api: 'responses', routing: { attempts: [] } })
    assert.equal(textOf(running), 'The response resp_1 is still in_progress. Fetch its answer later with get_response {"response_id": "resp_1"}, or stop it with cancel_response.')
    const fields = Object.keys(running.structuredContent ?? {})
    assert.equal(fields.includes('cache'), false)
    assert.equal(fields.includes('droppedParameters'), false)
  })
})

describe('chat answers as the response cache keeps them', () => {
  test('an answer read back from its JSON is a stored answer', () => {
    assert.equal(cachedChatAnswers.isStored(JSON.parse(JSON.stringify(answer))), true)
    assert.equal(cachedChatAnswers.modelOf(answer), 'gpt-4.1-mini')
  })

  test('an MCP result, as earlier versions stored, is not', () => {
    assert.equal(cachedChatAnswers.isStored(JSON.parse(JSON.stringify(chatToolResult(answer)))), false)
    assert.equal(cachedChatAnswers.isStored({ ...answer, result: { ...answer.result, status: 'done' } }), false)
  })
})

describe('embeddings as an MCP result (embeddingToolResult)', () => {
  test('the vectors are in structuredContent, by input position; the text only sums them up', () => {
    const result = embeddingToolResult({ result: { model: 'text-embedding-3-small', vectors: [[0.5, 1], [0, -1]], usage: { inputTokens: 2, totalTokens: 2 } }, routing: { provider: 'openai', attempts: [] } }, 'hit')
    assert.deepEqual(result.content, [{ type: 'text', text: '2 embeddings of 2 dimensions from text-embedding-3-small (2 input tokens); the vectors are in structuredContent.embeddings.' }])
    assert.deepEqual(result.structuredContent, {
      model: 'text-embedding-3-small',
      provider: 'openai',
      attempts: [],
      dimensions: 2,
      embeddings: [{ index: 0, embedding: [0.5, 1] }, { index: 1, embedding: [0, -1] }],
      usage: { inputTokens: 2, totalTokens: 2 },
      cache: 'hit',
    })
  })
})

describe('images as an MCP result (imageToolResult)', () => {
  test('bytes become image content, a URL a resource link; the summary names each revised prompt once', () => {
    const result = imageToolResult({
      result: {
        model: 'dall-e-3',
        images: [{ base64: 'aGk=', mimeType: 'image/png', revisedPrompt: 'a red fox' }, { url: 'https://example.com/2.png', mimeType: 'image/png', revisedPrompt: 'a red fox' }],
      },
      routing: { provider: 'openai', attempts: [] },
    })
    assert.deepEqual(result.content, [
      { type: 'image', data: 'aGk=', mimeType: 'image/png' },
      { type: 'resource_link', uri: 'https://example.com/2.png', name: 'image-2', mimeType: 'image/png' },
      { type: 'text', text: '2 images from dall-e-3. Revised prompt: a red fox' },
    ])
    assert.deepEqual(result.structuredContent, {
      model: 'dall-e-3',
      provider: 'openai',
      attempts: [],
      images: [{ index: 0, mimeType: 'image/png', revisedPrompt: 'a red fox' }, { index: 1, mimeType: 'image/png', url: 'https://example.com/2.png', revisedPrompt: 'a red fox' }],
    })
  })
})
