import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorBody, TINY_PNG_BASE64 } from '../../support/fake-openai.js'
import { errorMeta, textOf } from '../../support/results.js'
import { startInProcessStack, type InProcessStack } from '../../support/app.js'

describe('generate_image', () => {
  let stack: InProcessStack
  before(async () => { stack = await startInProcessStack() })
  after(() => stack.close())
  beforeEach(() => stack.upstream.reset())

  test('gpt-image-1 (the default) returns MCP image content with its format and usage', async () => {
    const result = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'a lighthouse at dusk', size: '1024x1024', quality: 'low', n: 2, output_format: 'webp' } })
    assert.equal(result.isError, undefined)
    const content = result.content as Array<{ type: string, data?: string, mimeType?: string, text?: string }>
    assert.deepEqual(content.slice(0, 2), [
      { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/webp' },
      { type: 'image', data: TINY_PNG_BASE64, mimeType: 'image/webp' },
    ])
    assert.equal(content[2]?.text, '2 images from gpt-image-1.')
    const structured = result.structuredContent as { images: unknown[], usage: { totalTokens: number } }
    assert.equal(structured.images.length, 2)
    assert.equal(structured.usage.totalTokens, 4170)
    const { body } = stack.upstream.received('POST /v1/images/generations')[0]!
    assert.deepEqual(body, { model: 'gpt-image-1', prompt: 'a lighthouse at dusk', size: '1024x1024', quality: 'low', n: 2, output_format: 'webp' })
  })

  test('DALL·E is asked for base64, and its revised prompt is returned', async () => {
    const result = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat', model: 'dall-e-3', output_format: 'jpeg' } })
    const content = result.content as Array<{ type: string, mimeType?: string, text?: string }>
    assert.equal(content[0]?.type, 'image')
    assert.equal(content[0]?.mimeType, 'image/png')
    assert.equal(content[1]?.text, '1 image from dall-e-3. Revised prompt: A picture of a cat')
    assert.equal((result.structuredContent as { images: Array<{ revisedPrompt: string }> }).images[0]?.revisedPrompt, 'A picture of a cat')
    const { body } = stack.upstream.received('POST /v1/images/generations')[0]!
    assert.equal(body.response_format, 'b64_json')
    assert.equal(body.output_format, undefined)
  })

  test('bad arguments are refused; a content-policy refusal is an actionable tool error', async () => {
    const tooMany = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'x', n: 11 } })
    assert.match(textOf(tooMany), /n must be <= 10/)
    const badSize = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'x', size: '10x10' } })
    assert.match(textOf(badSize), /size must be one of: auto, 1024x1024/)
    assert.equal(stack.upstream.received('POST /v1/images/generations').length, 0)

    stack.upstream.script('POST /v1/images/generations', { status: 400, json: errorBody('Your request was rejected as a result of our safety system.', 'image_generation_user_error', 'moderation_blocked') })
    const refused = await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'something forbidden' } })
    assert.equal(errorMeta(refused).code, 'upstream_rejected')
    assert.match(textOf(refused), /rejected image generation with gpt-image-1 \(HTTP 400: Your request was rejected as a result of our safety system/)
  })
})
