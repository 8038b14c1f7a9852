import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorBody, TINY_PNG_BASE64 } from '../../../support/fake-openai.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../../support/app.js'

const dataUrl = `data:image/png;base64,${TINY_PNG_BASE64}`

for (const api of ['responses', 'chat_completions'] as const) {
  const route = api === 'responses' ? 'POST /v1/responses' : 'POST /v1/chat/completions'

  describe(`images in messages over the ${api} API`, () => {
    let stack: InProcessStack
    before(async () => { stack = await startInProcessStack({ UPSTREAM_API: api }) })
    after(() => stack.close())
    beforeEach(() => stack.upstream.reset())

    test('image_url parts (URL string, {url, detail}) and MCP image blocks reach the model', async () => {
      const result = await stack.client.callTool({
        name: 'chat',
        arguments: {
          model: 'gpt-4.1',
          messages: [{
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these pictures?' },
              { type: 'image_url', image_url: 'https://images.example/cat.jpg' },
              { type: 'image_url', image_url: { url: dataUrl, detail: 'low' } },
              { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/png' },
            ],
          }],
        },
      })
      assert.equal(result.isError, undefined)
      const sent = stack.upstream.received(route)[0]!.body
      if (api === 'responses') {
        assert.deepEqual(sent.input[0].content, [
          { type: 'input_text', text: 'What is in these pictures?' },
          { type: 'input_image', image_url: 'https://images.example/cat.jpg', detail: 'auto' },
          { type: 'input_image', image_url: dataUrl, detail: 'low' },
          { type: 'input_image', image_url: dataUrl, detail: 'auto' },
        ])
      } else {
        assert.deepEqual(sent.messages[0].content, [
          { type: 'text', text: 'What is in these pictures?' },
          { type: 'image_url', image_url: { url: 'https://images.example/cat.jpg' } },
          { type: 'image_url', image_url: { url: dataUrl, detail: 'low' } },
          { type: 'image_url', image_url: { url: dataUrl } },
        ])
      }
    })

    test('an image the upstream cannot use is its refusal, passed on', async () => {
      stack.upstream.script(route, { status: 400, json: errorBody('Invalid image URL: could not download https://images.example/gone.jpg.', 'invalid_request_error', 'invalid_image_url') })
      const result = await stack.client.callTool({ name: 'chat', arguments: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'https://images.example/gone.jpg' }] }] } })
      assert.equal(errorMeta(result).code, 'upstream_rejected')
      assert.match(textOf(result), /HTTP 400: Invalid image URL: could not download/)
    })

    test('images outside user messages, and malformed image parts, are refused', async () => {
      const assistantImage = await stack.client.callTool({ name: 'chat', arguments: { messages: [{ role: 'assistant', content: [{ type: 'image_url', image_url: dataUrl }] }, { role: 'user', content: 'and?' }] } })
      assert.equal(errorMeta(assistantImage).code, 'invalid_arguments')
      assert.match(textOf(assistantImage), /messages\[0\]: images go in user messages only/)
      const badMime = await stack.client.callTool({ name: 'chat', arguments: { messages: [{ role: 'user', content: [{ type: 'image', data: 'AAAA', mimeType: 'text/plain' }] }] } })
      assert.match(textOf(badMime), /mimeType must be an image\/\* MIME type/)
      assert.equal(stack.upstream.received(route).length, 0)
    })
  })
}
