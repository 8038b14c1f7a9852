import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Client } from '../../src/access/client-keys.js'
import { Budgets, requestCounterKey } from '../../src/access/budgets.js'
import { CallRecord } from '../../src/observability/call-record.js'
import { PriceTable } from '../../src/observability/prices.js'
import { RecentCalls } from '../../src/observability/recent-calls.js'
import { UpstreamHealth } from '../../src/observability/upstream-health.js'
import { DeferredCharges } from '../../src/shared-state/deferred-charges.js'
import { WindowCounters } from '../../src/shared-state/window-counters.js'
import { BudgetUsage } from '../../src/status/client-usage.js'

function finishedCall (tool: string, { client = 'team-a', tokens = 0, errorCode }: { client?: string, tokens?: number, errorCode?: 'timeout' } = {}): CallRecord {
  const record = new CallRecord(tool)
  record.admitted({ name: client })
  record.routed('fast')
  record.attempted({ provider: 'openai', model: 'gpt-4.1', outcome: 'upstream_unavailable' })
  record.attempted({ provider: 'local', model: 'gpt-4.1-mini', outcome: 'ok' })
  record.upstreamFinished({ provider: 'local', model: 'gpt-4.1-mini', outcome: 'ok', durationMs: 10 })
  record.answered('gpt-4.1-mini', { inputTokens: tokens, outputTokens: tokens })
  record.finished(errorCode ? 'tool_error' : 'ok', 12.4, errorCode)
  return record
}

describe('recent calls', () => {
  test('keep the last calls of a bounded ring, newest first, and only those after a seq when asked', () => {
    const calls = new RecentCalls(3, new PriceTable(), () => 1_000)
    for (const tool of ['a', 'b', 'c', 'd', 'e']) calls.add(finishedCall(tool))
    assert.deepEqual(calls.newest().map((call) => [call.seq, call.tool]), [[5, 'e'], [4, 'd'], [3, 'c']])
    assert.deepEqual(calls.newest(3).map((call) => call.tool), ['e', 'd'])
    assert.deepEqual(calls.newest(5), [])
    assert.equal(calls.lastSeq, 5)
  })

  test('say who, which model was asked for and which served, the fallbacks taken, tokens and cost; nothing of the call\'s text', () => {
    const calls = new RecentCalls(10, new PriceTable(), () => 1_000)
    calls.add(finishedCall('chat', { tokens: 1_000_000 }))
    calls.add(finishedCall('chat', { errorCode: 'timeout' }))
    const [failed, served] = calls.newest()
    assert.deepEqual(served, {
      seq: 1,
      at: 1_000,
      client: 'team-a',
      principal: undefined,
      tool: 'chat',
      modelRequested: 'fast',
      modelServed: 'gpt-4.1-mini',
      provider: 'local',
      outcome: 'ok',
      durationMs: 12,
      inputTokens: 1_000_000,
      outputTokens: 1_000_000,
      costUsd: 0.4 + 1.6,
      cache: undefined,
      fallbacks: ['openai/gpt-4.1: upstream_unavailable'],
    })
    assert.equal(failed?.outcome, 'timeout')
    assert.equal(failed?.costUsd, undefined, 'a call that spent nothing costs nothing')
  })
})

describe('upstream health', () => {
  test('gives each provider and model its error rate and p50/p95 latency over the window, then forgets them', () => {
    let now = 0
    const health = new UpstreamHealth({ windowMs: 60_000, maxSamples: 100, maxPairs: 10, now: () => now })
    for (let ms = 1; ms <= 100; ms++) health.add({ provider: 'openai', model: 'gpt-4.1', outcome: ms % 10 === 0 ? 'timeout' : 'ok', durationMs: ms })
    health.add({ provider: 'openai', model: undefined, outcome: 'ok', durationMs: 5 })
    assert.deepEqual(health.rows(), [
      { provider: 'openai', model: '-', calls: 1, failures: 0, p50Ms: 5, p95Ms: 5 },
      { provider: 'openai', model: 'gpt-4.1', calls: 100, failures: 10, p50Ms: 50, p95Ms: 95 },
    ])
    now = 60_001
    assert.deepEqual(health.rows(), [])
  })

  test('keeps at most maxSamples calls per pair and maxPairs pairs, dropping the oldest', () => {
    const health = new UpstreamHealth({ windowMs: 60_000, maxSamples: 5, maxPairs: 2, now: () => 0 })
    for (let index = 0; index < 20; index++) health.add({ provider: 'p', model: 'steady', outcome: 'ok', durationMs: index })
    health.add({ provider: 'p', model: 'once', outcome: 'ok', durationMs: 1 })
    health.add({ provider: 'p', model: 'newest', outcome: 'ok', durationMs: 1 })
    assert.deepEqual(health.rows().map(({ model, calls }) => [model, calls]), [['newest', 1], ['once', 1]])
    const busy = new UpstreamHealth({ windowMs: 60_000, maxSamples: 5, maxPairs: 2, now: () => 0 })
    for (let index = 0; index < 20; index++) busy.add({ provider: 'p', model: 'm', outcome: 'ok', durationMs: index })
    assert.deepEqual(busy.rows().map(({ calls, p50Ms }) => [calls, p50Ms]), [[5, 17]])
  })
})

describe('client usage', () => {
  const client: Client = { name: 'team-a', models: undefined, requestsPerMinute: 30, tokens: { day: 1000 }, usd: { month: 5 }, operator: false, hasKey: true }
  const unlimited: Client = { ...client, name: 'team-b', requestsPerMinute: undefined, tokens: {}, usd: {} }

  test('gives every limit of each client in its current window, from the budgets: requests, tokens and USD against the limits', async () => {
    const now = Date.UTC(2026, 5, 15, 12, 0, 30)
    const counters = new WindowCounters(undefined)
    const budgets = new Budgets({
      counters,
      deferred: new DeferredCharges(undefined),
      onRefused: () => {},
      defaultRequestsPerMinute: 0,
      now: () => now,
    })
    await budgets.settle(client, undefined, { tokens: 250, microUsd: 1_250_000 })
    await counters.add(requestCounterKey('team-a'), 4, 60_000)
    const usage = await new BudgetUsage(budgets).usage([client, unlimited])
    assert.deepEqual(usage.get('team-a'), [
      { measure: 'requests', period: 'minute', used: 4, limit: 30, resetsAt: usage.get('team-a')?.[0]?.resetsAt },
      { measure: 'tokens', period: 'day', used: 250, limit: 1000, resetsAt: Date.UTC(2026, 5, 16) },
      { measure: 'usd', period: 'month', used: 1.25, limit: 5, resetsAt: Date.UTC(2026, 6, 1) },
    ])
    assert.deepEqual(usage.get('team-b'), [], 'a client without limits has no rows')
  })
})
