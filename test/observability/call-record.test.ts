import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CallRecord } from '../../src/observability/call-record.js'

test('each step fills its part of the call record: the first model asked for, every attempt, who answered, what was spent', () => {
  const record = new CallRecord('chat')
  record.admitted({ name: 'team-a', principal: 'alice' })
  record.routed('fast')
  record.routed('gpt-4.1')
  record.upstreamFinished({ provider: 'openai', model: 'gpt-4.1', outcome: 'timeout', durationMs: 30 })
  record.attempted({ provider: 'openai', model: 'gpt-4.1', outcome: 'timeout' })
  record.retried()
  record.upstreamFinished({ provider: 'local', model: 'llama3', outcome: 'ok', durationMs: 12 })
  record.attempted({ provider: 'local', model: 'llama3', outcome: 'ok' })
  record.cacheUsed('miss')
  record.answered('llama3', { inputTokens: 7, outputTokens: 3 })
  record.estimated({ inputTokens: 1 })
  record.finished('ok', 50)
  assert.deepEqual(record.routing(), {
    provider: 'local',
    attempts: [{ provider: 'openai', model: 'gpt-4.1', outcome: 'timeout' }, { provider: 'local', model: 'llama3', outcome: 'ok' }],
  })
  assert.deepEqual(record.logFields(), {
    tool: 'chat',
    modelRequested: 'fast',
    modelAnswered: 'llama3',
    provider: 'local',
    attempts: 'openai/gpt-4.1:timeout local/llama3:ok',
    upstreamCalls: 2,
    upstreamMs: 42,
    retries: 1,
    inputTokens: 8,
    outputTokens: 3,
    tokensEstimated: true,
    cache: 'miss',
  })
  assert.deepEqual([record.client, record.principal, record.outcome, record.durationMs], ['team-a', 'alice', 'ok', 50])
})

test('a failed upstream call names no answering provider; routing() is a copy the record does not change later', () => {
  const record = new CallRecord('embed')
  record.upstreamFinished({ provider: 'openai', model: 'text-embedding-3-small', outcome: 'upstream_unavailable', durationMs: 5 })
  const routing = record.routing()
  record.attempted({ provider: 'openai', model: 'text-embedding-3-small', outcome: 'upstream_unavailable' })
  assert.deepEqual(routing, { attempts: [] })
  assert.equal(record.providerAnswered, undefined)
})
