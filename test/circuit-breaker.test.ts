import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CircuitBreaker, type CircuitState } from '../src/circuit-breaker.js'
import { DEFAULT_CIRCUIT_BREAKER } from '../src/routing/routing-config.js'

/** A breaker on a clock the test moves. */
function breakerAt (settings: Partial<typeof DEFAULT_CIRCUIT_BREAKER>) {
  const clock = { now: 0 }
  const changes: CircuitState[] = []
  const breaker = new CircuitBreaker(
    { ...DEFAULT_CIRCUIT_BREAKER, ...settings },
    (state) => changes.push(state),
    () => clock.now
  )
  return { breaker, clock, changes }
}

describe('CircuitBreaker', () => {
  test('opens on the failure ratio within the window once it holds minimumCalls, though failures never ran consecutively', () => {
    const { breaker, changes } = breakerAt({ failureThreshold: 100, failureRatio: 0.5, minimumCalls: 6 })
    for (let call = 0; call < 2; call++) {
      breaker.failed('boom')
      breaker.succeeded()
    }
    breaker.failed('boom')
    assert.equal(breaker.state, 'closed', '3 of 5 failed, under minimumCalls')
    breaker.succeeded()
    assert.equal(breaker.state, 'closed', '3 of 6: exactly half, but the last call succeeded and the ratio is checked on failure')
    breaker.failed('boom')
    assert.equal(breaker.state, 'open', '4 of 7 failed')
    assert.deepEqual(changes, ['open'])
  })

  test('outcomes older than windowMs no longer count', () => {
    const { breaker, clock } = breakerAt({ failureThreshold: 100, failureRatio: 0.5, minimumCalls: 4, windowMs: 1000 })
    for (let call = 0; call < 3; call++) breaker.failed('old')
    clock.now = 2000
    breaker.succeeded()
    breaker.succeeded()
    breaker.succeeded()
    breaker.failed('new')
    assert.equal(breaker.state, 'closed', 'only 1 of the last 4 failed')
  })

  test('a neutral outcome frees the half-open probe without closing or opening', () => {
    const { breaker, clock } = breakerAt({ failureThreshold: 1, cooldownMs: 100 })
    breaker.failed('boom')
    assert.equal(breaker.tryEnter(), false)
    clock.now = 100
    assert.equal(breaker.tryEnter(), true, 'the probe')
    assert.equal(breaker.state, 'half_open')
    assert.equal(breaker.tryEnter(), false, 'one probe at a time')
    breaker.released()
    assert.equal(breaker.state, 'half_open')
    assert.equal(breaker.tryEnter(), true, 'the next call may probe')
    breaker.succeeded()
    assert.equal(breaker.state, 'closed')
  })
})
