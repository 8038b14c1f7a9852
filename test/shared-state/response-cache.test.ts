import assert from 'node:assert/strict'
import { test } from 'node:test'
import pino from 'pino'
import { ResponseCache } from '../../src/shared-state/response-cache.js'
import { LogCapture } from '../support/logs.js'

const isAnswer = (stored: unknown): stored is { text: string } =>
  typeof stored === 'object' && stored !== null && typeof (stored as { text?: unknown }).text === 'string'

test('a stored value its reader does not recognise (an earlier format) is a miss, warned once per key', async () => {
  const logs = new LogCapture()
  const log = pino(logs.stream)
  const cache = new ResponseCache({ redis: undefined, log, ttlMs: 60_000, maxEntries: 10, maxBytes: 100_000 })
  await cache.set('answer', { text: '4' })
  assert.deepEqual(await cache.get('answer', isAnswer), { text: '4' })
  await cache.set('earlier', { content: [{ type: 'text', text: '4' }], structuredContent: { text: '4' } })
  assert.equal(await cache.get('earlier', isAnswer), undefined)
  assert.equal(await cache.get('earlier', isAnswer), undefined)
  const warned = logs.find({ msg: 'a response cache entry is not a stored answer; it is treated as a miss and replaced by the next answer' })
  assert.deepEqual(warned.map((line) => line.cacheKey), ['earlier'])
})
