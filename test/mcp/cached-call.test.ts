import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Type } from '@sinclair/typebox'
import pino from 'pino'
import { cachedAnswers, cachedCall } from '../../src/mcp/cached-call.js'
import { CallRecord } from '../../src/observability/call-record.js'
import { ResponseCache } from '../../src/shared-state/response-cache.js'

const Answer = Type.Object({ model: Type.String(), text: Type.String(), complete: Type.Boolean() })
const answers = cachedAnswers(Answer, (answer) => answer.model)
const log = pino({ level: 'silent' })
const newCache = () => new ResponseCache({ redis: undefined, log, ttlMs: 60_000, maxEntries: 10, maxBytes: 100_000 })

test('an exact repeat of a deterministic request is a hit with the same plain answer, counted as the model that gave it', async () => {
  const cache = newCache()
  let asked = 0
  const ask = async () => ({ model: 'gpt-4.1-mini', text: `answer ${++asked}`, complete: true })
  const spec = { answers, mode: undefined, deterministic: true, request: { prompt: 'hi', options: { a: 1, b: 2 } }, complete: () => true }
  const first = new CallRecord('chat')
  assert.deepEqual(await cachedCall(cache, first, spec, ask), { answer: { model: 'gpt-4.1-mini', text: 'answer 1', complete: true }, cache: 'miss' })
  assert.equal(first.cache, 'miss')
  const replayed: string[] = []
  const second = new CallRecord('chat')
  const reordered = { ...spec, request: { options: { b: 2, a: 1 }, prompt: 'hi' }, replay: (answer: { text: string }) => replayed.push(answer.text) }
  assert.deepEqual(await cachedCall(cache, second, reordered, ask), { answer: { model: 'gpt-4.1-mini', text: 'answer 1', complete: true }, cache: 'hit' })
  assert.deepEqual([second.cache, second.modelAnswered, asked, replayed], ['hit', 'gpt-4.1-mini', 1, ['answer 1']])
})

test('no cache, no-store, or a non-deterministic request under "default" bypass it; an incomplete answer is not kept', async () => {
  const cache = newCache()
  const ask = async () => ({ model: 'm', text: 't', complete: false })
  const spec = { answers, mode: undefined, deterministic: false, request: 'r', complete: (answer: { complete: boolean }) => answer.complete }
  for (const [store, mode, deterministic] of [[undefined, 'force', true], [cache, 'no-store', true], [cache, 'default', false]] as const) {
    const record = new CallRecord('chat')
    assert.equal((await cachedCall(store, record, { ...spec, mode, deterministic }, ask)).cache, 'bypass')
    assert.equal(record.cache, 'bypass')
  }
  assert.equal((await cachedCall(cache, new CallRecord('chat'), { ...spec, mode: 'force' }, ask)).cache, 'miss')
  assert.equal((await cachedCall(cache, new CallRecord('chat'), { ...spec, mode: 'force' }, ask)).cache, 'miss', 'the incomplete answer was not stored')
})
