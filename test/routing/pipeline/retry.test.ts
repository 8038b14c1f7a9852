import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ToolError } from '../../../src/errors.js'
import { Deadline } from '../../../src/routing/pipeline/deadline.js'
import { retry, type RetryOptions, type UpstreamRetry } from '../../../src/routing/pipeline/retry.js'
import { startCall } from '../../../src/routing/pipeline/upstream-call.js'
import { UpstreamStatusError } from '../../../src/upstream/errors.js'
import { ManualClock } from '../../support/clock.js'
import { fakeProvider } from '../../support/pipeline.js'

const operation = { name: 'chat', operation: 'chat with gpt-test' } as const
const unavailable = () => new ToolError('upstream_unavailable', 'HTTP 503', { retryable: true, upstreamStatus: 503 })

/** A retry policy on a clock the test moves: its waits advance the clock instead of sleeping, and are kept. */
function retryOn (clock: ManualClock, options: Partial<RetryOptions> = {}) {
  const waits: number[] = []
  const retries: UpstreamRetry[] = []
  const policy = retry({
    maxRetries: 2,
    baseDelayMs: 100,
    shown: { streamedCharacters: 0 },
    onRetry: (retried) => { retries.push(retried) },
    sleep: async (ms) => {
      waits.push(ms)
      clock.advance(ms)
    },
    random: () => 1,
    ...options,
  })
  return { policy, waits, retries }
}

/** A call to one provider, `limitMs` on `clock`, its deadline started as the time limit would. */
function callOn (clock: ManualClock, limitMs = 60_000, signal = new AbortController().signal) {
  const { provider } = fakeProvider('a')
  return startCall(operation, { provider, model: 'gpt-test' }, signal, new Deadline(limitMs, clock.now).narrowed(60_000))
}

/** An upstream that fails with each of `failures` in turn, then answers. */
function failingWith (...failures: ToolError[]) {
  let attempts = 0
  return {
    get attempts () { return attempts },
    run: async () => {
      const failure = failures[attempts++]
      if (failure) throw failure
      return 'answer'
    },
  }
}

describe('retry', () => {
  test('retries transient failures after an exponential backoff (full jitter), up to maxRetries, and says so each time', async () => {
    const clock = new ManualClock()
    const { policy, waits, retries } = retryOn(clock)
    const upstream = failingWith(unavailable(), unavailable())
    assert.equal(await policy(callOn(clock), upstream.run), 'answer')
    assert.equal(upstream.attempts, 3)
    assert.deepEqual(waits, [100, 200], 'random() = 1: the whole backoff, doubling')
    assert.deepEqual(retries.map(({ attempt, delayMs, error }) => [attempt, delayMs, error.code]), [[1, 100, 'upstream_unavailable'], [2, 200, 'upstream_unavailable']])
  })

  test('gives up after maxRetries with the last failure', async () => {
    const clock = new ManualClock()
    const { policy } = retryOn(clock, { maxRetries: 1 })
    const upstream = failingWith(unavailable(), unavailable())
    await assert.rejects(policy(callOn(clock), upstream.run), /HTTP 503/)
    assert.equal(upstream.attempts, 2)
  })

  test('waits what the upstream asked for (Retry-After, to the millisecond) instead of the backoff', async () => {
    const clock = new ManualClock()
    const { policy, waits } = retryOn(clock)
    const limited = new UpstreamStatusError('rate_limited', 'HTTP 429', { retryable: true, retryAfterSeconds: 1, upstreamStatus: 429 }, 250)
    await policy(callOn(clock), failingWith(limited).run)
    assert.deepEqual(waits, [250])
  })

  test('does not wait past the deadline: a wait longer than the time left fails at once', async () => {
    const clock = new ManualClock()
    const { policy, waits } = retryOn(clock)
    const call = callOn(clock, 1000)
    clock.advance(800)
    const limited = new UpstreamStatusError('rate_limited', 'HTTP 429', { retryable: true, upstreamStatus: 429 }, 200)
    await assert.rejects(policy(call, failingWith(limited).run), /HTTP 429/)
    assert.deepEqual(waits, [])
  })

  test('never repeats an attempt after the client saw part of its answer', async () => {
    const clock = new ManualClock()
    const shown = { streamedCharacters: 0 }
    const { policy } = retryOn(clock, { shown })
    let attempts = 0
    await assert.rejects(policy(callOn(clock), async () => {
      attempts++
      shown.streamedCharacters += 5
      throw unavailable()
    }), /HTTP 503/)
    assert.equal(attempts, 1)
  })

  test('does not retry what another attempt cannot fix: a refusal, an exhausted quota, a 501, a timeout', async () => {
    const clock = new ManualClock()
    for (const failure of [
      new ToolError('upstream_rejected', 'HTTP 400', { retryable: false, upstreamStatus: 400 }),
      new ToolError('quota_exceeded', 'HTTP 429 insufficient_quota', { retryable: false, upstreamStatus: 429 }),
      new ToolError('upstream_unavailable', 'HTTP 501', { retryable: false, upstreamStatus: 501 }),
      new ToolError('timeout', 'did not finish', { retryable: true }),
    ]) {
      const { policy } = retryOn(clock)
      const upstream = failingWith(failure)
      await assert.rejects(policy(callOn(clock), upstream.run), (error) => error === failure)
      assert.equal(upstream.attempts, 1, failure.message)
    }
  })

  test('a wait the caller stops ends the call as cancelled', async () => {
    const clock = new ManualClock()
    const caller = new AbortController()
    const { policy } = retryOn(clock, {
      sleep: async (_ms, signal) => {
        caller.abort(new Error('the client hung up'))
        signal.throwIfAborted()
      },
    })
    const call = callOn(clock, 60_000, caller.signal)
    await assert.rejects(policy(call, failingWith(unavailable()).run), (error: ToolError) => {
      assert.equal(error.code, 'cancelled')
      assert.match(error.message, /the client hung up/)
      return true
    })
  })
})
