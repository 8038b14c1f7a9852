import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { chatEstimate, embeddingEstimate, imageEstimate, TOKENS_PER_INPUT_IMAGE } from '../../src/mcp/spend-estimates.js'

describe('spend estimates', () => {
  test('a chat is its text at four characters a token, a fixed allowance per image, and its output bound', () => {
    const request = {
      model: 'gpt-4.1-mini',
      instructions: 'Be brief.',
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is this?' }, { type: 'image' as const, url: `data:image/png;base64,${'A'.repeat(100_000)}` }] }],
      toolOutputs: [{ callId: 'c1', output: '{"ok":true}' }],
    }
    // 9 + 13 + 11 characters: 33, so 9 tokens; the image's bytes are not its tokens.
    assert.deepEqual(chatEstimate(request, 'gpt-4.1-mini', 4096), { model: 'gpt-4.1-mini', inputTokens: 9 + TOKENS_PER_INPUT_IMAGE, outputTokens: 4096 })
    assert.equal(chatEstimate({ ...request, maxOutputTokens: 50 }, 'gpt-4.1-mini', 4096).outputTokens, 50)
  })

  test('embeddings are their input texts, with no output', () => {
    assert.deepEqual(embeddingEstimate(['abcd', 'abcde'], 'text-embedding-3-small'), { model: 'text-embedding-3-small', inputTokens: 3, outputTokens: 0 })
  })

  test('GPT image models estimate each image\'s output tokens by size and quality, auto as the dearest; DALL·E only counts images', () => {
    assert.equal(imageEstimate({ model: 'gpt-image-1', prompt: 'a fox', size: '1024x1024', quality: 'low', n: 2 }).outputTokens, 2 * 272)
    assert.equal(imageEstimate({ model: 'gpt-image-1', prompt: 'a fox', size: 'auto' }).outputTokens, 6240)
    assert.deepEqual(imageEstimate({ model: 'dall-e-3', prompt: 'a fox', quality: 'hd', n: 3 }), { model: 'dall-e-3', inputTokens: 2, outputTokens: 0, images: { count: 3, size: undefined, quality: 'hd' } })
  })
})
