import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { callRows, statusPage } from '../../src/status/status-page.js'
import type { StatusSnapshot } from '../../src/status/status-schema.js'

const HOSTILE = '<img src=x onerror="fetch(`//evil.example`)">'
const now = Date.UTC(2026, 5, 15, 12)

function snapshot (): StatusSnapshot {
  return {
    generatedAt: now,
    router: {
      version: '0.1.0',
      protocolVersions: ['2026-07-28', '2025-11-25'],
      sessions: 'stateful',
      startedAt: now - 90_000,
      uptimeSeconds: 90,
      replica: 'pod-a:1:ab12',
      replicas: [{ id: 'pod-a:1:ab12', version: '0.1.0', startedAt: now - 90_000, seenAt: now }, { id: 'pod-b:1:cd34', version: '0.1.0', startedAt: now - 30_000, seenAt: now }],
      sharedState: 'redis',
      redisReachable: true,
      openSessions: 3,
      openStreams: 2,
      inFlightCalls: 1,
      cache: { hits: 3, misses: 1, bypasses: 0, hitRatio: 0.75 },
      memory: { rssBytes: 150 * 1_048_576, heapUsedBytes: 60 * 1_048_576 },
    },
    providers: [
      { name: 'openai', baseURL: 'https://***:***@api.example/v1', api: 'responses', ready: true, check: 'ok', circuit: 'half_open', modelCircuits: [{ model: 'gpt-4.1', state: 'open' }], concurrency: { inFlight: 2, queued: 1, max: 4, maxQueued: 10 }, models: [{ model: 'gpt-4.1', calls: 20, failures: 2, errorRate: 0.1, p50Ms: 300, p95Ms: 1200 }] },
      { name: 'local', baseURL: 'http://vllm:8000/v1', api: 'chat_completions', ready: false, check: 'failing', circuit: 'open', probeAt: now + 12_000, lastFailure: HOSTILE, modelCircuits: [], models: [] },
    ],
    clients: [{ name: 'team-a', access: 'key', operator: true, usage: [{ measure: 'usd', period: 'day', used: 4.5, limit: 5, resetsAt: now + 3_600_000 }], refusals: [{ limit: 'usd_per_day', count: 7 }], principals: ['alice@example.com'] }],
    calls: [{ seq: 9, at: now - 1000, client: 'team-a', tool: 'chat', modelRequested: HOSTILE, outcome: 'rate_limited', durationMs: 12, inputTokens: 0, outputTokens: 0, fallbacks: ['openai/gpt-4.1: rate_limited'] }],
    lastSeq: 9,
  }
}

describe('the status page\'s markup', () => {
  test('shows half-open and open circuits with the time to the probe, model circuits, concurrency, error rate and latency', () => {
    const html = statusPage(snapshot(), 'METRICS_TOKEN', true)
    assert.match(html, /data-circuit="half_open">half-open</)
    assert.match(html, /data-circuit="open">open · probe in 12 s</)
    assert.match(html, /gpt-4\.1: open/)
    assert.match(html, /2\/4 · 1 queued/)
    assert.match(html, /gpt-4\.1: 20 calls, <span class="bad-text">10% errors<\/span>, p50 300 ms, p95 1200 ms/)
  })

  test('draws a bar per limit, with refusals by limit, and the replicas sharing Redis, this one marked', () => {
    const html = statusPage(snapshot(), 'METRICS_TOKEN', true)
    assert.match(html, /<meter min="0" max="5" low="3\.75" high="4\.5" optimum="0" value="4\.5" data-client="team-a" data-measure="usd" data-period="day" data-used="4\.5"><\/meter><span class="num">\$4\.50 \/ \$5\.00<\/span>/)
    assert.match(html, /usd_per_day: 7/)
    assert.match(html, /OAuth: alice@example\.com/)
    assert.match(html, /<li class="self">pod-a:1:ab12 <span class="muted">v0\.1\.0, up 90 s, this page/)
    assert.match(html, /<li>pod-b:1:cd34/)
    assert.match(html, /75% <span class="muted">\(3 hits, 1 misses\)/)
  })

  test('escapes whatever a client or an upstream named: a model name or a failure message never becomes markup', () => {
    const html = statusPage(snapshot(), 'METRICS_TOKEN', true) + callRows(snapshot().calls)
    assert.ok(!html.includes('<img'), 'no element from a value')
    assert.match(html, /&#60;img src=x onerror=&#34;fetch\(`\/\/evil\.example`\)&#34;&#62;/)
  })
})
