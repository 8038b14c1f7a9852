import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { ToolError } from '../../../src/errors.js'
import type { RoutedTarget } from '../../../src/routing/pipeline/upstream-call.js'
import { callProvider, callRoute } from '../../../src/routing/pipeline/upstream-pipeline.js'
import { UpstreamStatusError } from '../../../src/upstream/errors.js'
import { ManualClock } from '../../support/clock.js'
import { fakeProvider, recordingScope } from '../../support/pipeline.js'

const chat = { name: 'chat', operation: 'chat with fast' } as const
const unavailable = () => new UpstreamStatusError('upstream_unavailable', 'HTTP 503.', { retryable: true, upstreamStatus: 503 }, 0)

/** Two providers serving the model "fast": `a` first, `b` its fallback. */
function route (options: { timeoutMs?: number } = {}) {
  const a = fakeProvider('a', options)
  const b = fakeProvider('b', options)
  const targets: [RoutedTarget, RoutedTarget] = [{ provider: a.provider, model: 'fast' }, { provider: b.provider, model: 'fast-b' }]
  return { a, b, route: { requested: 'fast', targets } }
}

describe('callRoute: the policies composed', () => {
  test('a transient failure is retried on its target, then passed to the fallback, which answers; each step recorded, counted and told', async () => {
    const { scope, record, spans, metrics, events } = await recordingScope({ maxRetries: 1 })
    const { a, b, route: fast } = route()
    const { value, target } = await callRoute(scope, fast, chat, async (target) => {
      if (target.provider === a.provider) throw unavailable()
      return { model: target.model }
    })
    assert.deepEqual(value, { model: 'fast-b' })
    assert.equal(target.provider, b.provider)
    assert.equal(record.modelRequested, 'fast')
    assert.equal(record.providerAnswered, 'b')
    assert.equal(record.retries, 1)
    assert.deepEqual(record.attempts.map(({ provider, outcome }) => `${provider}:${outcome}`), ['a:upstream_unavailable', 'b:ok'])
    assert.deepEqual(metrics.calls.map(({ provider, outcome }) => `${provider}:${outcome}`), ['a:upstream_unavailable', 'b:ok'], 'one call per target, its retries inside it')
    assert.deepEqual(spans.getFinishedSpans().map((span) => span.name), ['chat fast', 'chat fast-b'])
    assert.deepEqual(a.exits.map(({ error }) => error?.code), ['upstream_unavailable', 'upstream_unavailable'], 'the gate saw each attempt')
    assert.deepEqual(b.exits.map(({ error }) => error?.code), [undefined])
    assert.deepEqual(events, [
      { clientLog: 'info', message: 'a/fast failed (upstream_unavailable); retrying in 0 ms' },
      { clientLog: 'warning', message: 'a/fast failed (upstream_unavailable); falling back to b/fast-b' },
      { status: 'a/fast failed (upstream_unavailable); trying b/fast-b' },
    ])
  })

  test('one deadline for the call: the fallback has what the first target left of it, and its timeout says so', async () => {
    const clock = new ManualClock()
    const { scope, record } = await recordingScope({ limitMs: 100, now: clock.now })
    const { a, b, route: fast } = route()
    await assert.rejects(callRoute(scope, fast, chat, async (target, signal) => {
      if (target.provider === a.provider) {
        clock.advance(30)
        throw unavailable()
      }
      await once(signal, 'abort')
      throw signal.reason
    }), (error: ToolError) => {
      assert.equal(error.code, 'timeout')
      assert.match(error.message, /did not finish chat with fast within 70 ms/)
      assert.match(error.message, /Tried in turn: a\/fast \(upstream_unavailable\), b\/fast-b \(timeout\)\./)
      return true
    })
    assert.equal(record.upstream.length, 2)
    assert.equal(b.exits[0]?.countTimeouts, false, 'a deadline shorter than the provider\'s own says nothing about its health')
  })

  test('no retry and no fallback once the client has seen part of the answer', async () => {
    const { scope, record, progress } = await recordingScope({ maxRetries: 2 })
    const { b, route: fast } = route()
    await assert.rejects(callRoute(scope, fast, chat, async () => {
      progress.streamedCharacters += 12
      throw unavailable()
    }), (error: ToolError) => {
      assert.equal(error.message, 'HTTP 503.', 'the first target\'s own failure')
      return true
    })
    assert.equal(record.retries, 0)
    assert.deepEqual(record.attempts.map(({ provider }) => provider), ['a'])
    assert.deepEqual(b.exits, [])
  })

  test('canTake leaves out fallbacks that cannot serve the request', async () => {
    const { scope } = await recordingScope()
    const { a, route: fast } = route()
    await assert.rejects(callRoute(scope, fast, chat, async () => { throw unavailable() }, (target) => target.provider === a.provider), /^ToolError: HTTP 503\.$/)
  })
})

describe('callProvider: one provider, no fallback', () => {
  test('bounded by the provider\'s own timeout when it is shorter than UPSTREAM_TIMEOUT_MS, which then counts against it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { scope, record } = await recordingScope({ limitMs: 120_000 })
    const { provider, exits } = fakeProvider('a', { timeoutMs: 50 })
    const operation = { name: 'retrieve_response', operation: 'fetching response resp_1', resource: 'response resp_1' } as const
    const result = callProvider(scope, { provider }, operation, async (signal) => {
      await once(signal, 'abort')
      throw signal.reason
    })
    await new Promise(setImmediate)
    t.mock.timers.tick(50)
    await assert.rejects(result, /did not finish fetching response resp_1 within 50 ms/)
    assert.deepEqual(exits.map(({ countTimeouts, error }) => [countTimeouts, error?.code]), [[true, 'timeout']])
    assert.deepEqual(record.attempts, [], 'a call that names no route has no attempts to tell')
    assert.deepEqual(record.upstream.map(({ outcome }) => outcome), ['timeout'])
  })

  test('the upstream\'s answer comes back as it is', async () => {
    const { scope, record } = await recordingScope()
    const { provider } = fakeProvider('a')
    assert.equal(await callProvider(scope, { provider }, { name: 'cancel_response', operation: 'cancelling response resp_1' }, async () => 'cancelled'), 'cancelled')
    assert.equal(record.providerAnswered, 'a')
  })
})
