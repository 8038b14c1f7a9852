import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PriceTable } from '../../src/observability/prices.js'

describe('prices of calls', () => {
  const prices = new PriceTable({ 'my-model': { input: 1, output: 2 } }, { 'my-painter': { standard: { '512x512': 0.5 } } })
  const call = { inputTokens: 1_000_000, outputTokens: 500_000 }

  test('tokens at the model\'s price per million, dated snapshots included; no price, no cost', () => {
    assert.equal(prices.costOfCall({ model: 'my-model', ...call }), 2)
    assert.equal(prices.costOfCall({ model: 'gpt-4.1-mini-2025-04-14', ...call }), 1.2)
    assert.equal(prices.costOfCall({ model: 'mystery', ...call }), undefined)
  })

  test('DALL·E by the image, at the API\'s default size and quality when unset, the dearest for a size it lacks', () => {
    const none = { inputTokens: 0, outputTokens: 0 }
    assert.equal(prices.costOfCall({ model: 'dall-e-3', ...none, images: { count: 2 } }), 0.08)
    assert.equal(prices.costOfCall({ model: 'dall-e-3', ...none, images: { count: 1, size: '1792x1024', quality: 'hd' } }), 0.12)
    assert.equal(prices.costOfCall({ model: 'dall-e-2', ...none, images: { count: 1, size: '2048x2048' } }), 0.02)
    assert.equal(prices.costOfCall({ model: 'my-painter', ...none, images: { count: 2, size: '512x512' } }), 1)
  })

  test('GPT image models by their tokens, whatever the images', () => {
    assert.equal(prices.costOfCall({ model: 'gpt-image-1', inputTokens: 10, outputTokens: 4160, images: { count: 1 } }), (10 * 5 + 4160 * 40) / 1_000_000)
  })
})
