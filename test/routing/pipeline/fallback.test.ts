import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ToolError } from '../../../src/errors.js'
import type { RouteAttempt } from '../../../src/observability/call-record.js'
import { Deadline } from '../../../src/routing/pipeline/deadline.js'
import { fallback } from '../../../src/routing/pipeline/fallback.js'
import { startCall, type UpstreamProvider } from '../../../src/routing/pipeline/upstream-call.js'
import { ManualClock } from '../../support/clock.js'
import { fakeProvider } from '../../support/pipeline.js'

const operation = { name: 'chat', operation: 'chat with fast' } as const
type Target = { provider: UpstreamProvider, model: string }
const targets: [Target, Target, Target] = [
  { provider: fakeProvider('a').provider, model: 'fast' },
  { provider: fakeProvider('b').provider, model: 'fast' },
  { provider: fakeProvider('c').provider, model: 'slow' },
]
const unavailable = new ToolError('upstream_unavailable', 'HTTP 503.', { retryable: true, upstreamStatus: 503 })

/** A fallback policy over `targets` whose attempts and passings-on the test reads back. */
function fallbackWith (options: { shown?: { streamedCharacters: number } } = {}) {
  const attempts: RouteAttempt[] = []
  const passedOn: string[] = []
  const policy = fallback({
    targets,
    shown: options.shown ?? { streamedCharacters: 0 },
    attempts,
    attempted: ({ provider, model }, outcome) => { attempts.push({ provider: provider.name, model, outcome: outcome === 'ok' ? 'ok' : outcome.code }) },
    fellBack: (from, to, error) => { passedOn.push(`${from.provider.name}->${to.provider.name}:${error.code}`) },
  })
  return { policy, attempts, passedOn }
}

const callWith = (signal = new AbortController().signal, deadline = new Deadline(60_000)) =>
  startCall(operation, targets[0], signal, deadline)

/** An upstream where each provider named in `failing` fails with its error; the others answer with their name. */
const upstream = (failing: Record<string, ToolError>) => async ({ target }: { target: Target }) => {
  const failure = failing[target.provider.name]
  if (failure) throw failure
  return target.provider.name
}

describe('fallback', () => {
  test('passes the call to each fallback in turn while the failure is the upstream\'s state, and keeps what was tried', async () => {
    const { policy, attempts, passedOn } = fallbackWith()
    const open = new ToolError('circuit_open', 'open', { retryable: true })
    assert.equal(await policy(callWith(), upstream({ a: unavailable, b: open })), 'c')
    assert.deepEqual(attempts.map(({ provider, outcome }) => `${provider}:${outcome}`), ['a:upstream_unavailable', 'b:circuit_open', 'c:ok'])
    assert.deepEqual(passedOn, ['a->b:upstream_unavailable', 'b->c:circuit_open'])
  })

  test('a failure about the request itself is not passed on', async () => {
    const { policy, passedOn } = fallbackWith()
    const rejected = new ToolError('upstream_rejected', 'HTTP 400', { retryable: false })
    await assert.rejects(policy(callWith(), upstream({ a: rejected })), (error) => error === rejected, 'the first failure as it was')
    assert.deepEqual(passedOn, [])
  })

  test('never passes on once the client has seen part of the answer', async () => {
    const shown = { streamedCharacters: 0 }
    const { policy, passedOn } = fallbackWith({ shown })
    await assert.rejects(policy(callWith(), async () => {
      shown.streamedCharacters += 10
      throw unavailable
    }), /HTTP 503/)
    assert.deepEqual(passedOn, [])
  })

  test('never passes on a call its caller stopped, or one past its deadline', async () => {
    const caller = new AbortController()
    const stopped = fallbackWith()
    await assert.rejects(stopped.policy(callWith(caller.signal), async () => {
      caller.abort()
      throw unavailable
    }))
    assert.deepEqual(stopped.passedOn, [])

    const clock = new ManualClock()
    const deadline = new Deadline(1000, clock.now)
    const late = fallbackWith()
    await assert.rejects(late.policy(callWith(undefined, deadline), async (call) => {
      call.deadline.narrowed(60_000)
      clock.advance(1000)
      throw unavailable
    }))
    assert.deepEqual(late.passedOn, [])
  })

  test('the last failure after fallbacks says what was tried in turn', async () => {
    const { policy } = fallbackWith()
    const everyFailing = upstream({ a: unavailable, b: unavailable, c: unavailable })
    await assert.rejects(policy(callWith(), everyFailing), (error: ToolError) => {
      assert.equal(error.code, 'upstream_unavailable')
      assert.equal(error.message, 'HTTP 503. Tried in turn: a/fast (upstream_unavailable), b/fast (upstream_unavailable), c/slow (upstream_unavailable).')
      assert.deepEqual(error.details, unavailable.details)
      return true
    })
  })
})
