import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reportedUsage, tokenCount } from '../../src/upstream/token-usage.js'

test('a token count is a non-negative safe integer, anything else is unknown', () => {
  for (const count of [0, 1, 18, Number.MAX_SAFE_INTEGER]) assert.equal(tokenCount(count), count)
  for (const junk of ['1e9', 'x', '18', 1.5, -1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, null, undefined, {}, [3], true]) {
    assert.equal(tokenCount(junk), undefined, String(junk))
  }
})

test('usage with a count that is not one is unknown; a missing or wrong total is the sum', () => {
  assert.deepEqual(reportedUsage(11, 7, 18), { inputTokens: 11, outputTokens: 7, totalTokens: 18 })
  assert.deepEqual(reportedUsage(11, 7, undefined), { inputTokens: 11, outputTokens: 7, totalTokens: 18 })
  assert.deepEqual(reportedUsage(11, 7, '1e9'), { inputTokens: 11, outputTokens: 7, totalTokens: 18 })
  assert.equal(reportedUsage('1e9', 7, 18), undefined)
  assert.equal(reportedUsage(11, 2.5, 18), undefined)
  assert.equal(reportedUsage(-5, 7, 2), undefined)
})
