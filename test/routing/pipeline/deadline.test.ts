import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Deadline } from '../../../src/routing/pipeline/deadline.js'
import { ManualClock } from '../../support/clock.js'

describe('Deadline', () => {
  test('a call\'s deadline is its timeout_ms, capped at UPSTREAM_TIMEOUT_MS, or UPSTREAM_TIMEOUT_MS without one', () => {
    assert.equal(Deadline.forCall(500, 120_000).limitMs, 500)
    assert.equal(Deadline.forCall(500_000, 120_000).limitMs, 120_000)
    assert.equal(Deadline.forCall(undefined, 120_000).limitMs, 120_000)
  })

  test('its clock starts with the first target: time before it is not the upstream\'s', () => {
    const clock = new ManualClock()
    const deadline = new Deadline(1000, clock.now)
    clock.advance(400)
    assert.equal(deadline.remainingMs(), 1000)
    assert.equal(deadline.passed, false)
    assert.equal(deadline.narrowed(60_000).limitMs, 1000, 'the first target has the whole limit')
    clock.advance(300)
    assert.equal(deadline.remainingMs(), 700)
  })

  test('a target has what is left of it, no more than its provider\'s timeout, and at least 1 ms', () => {
    const clock = new ManualClock()
    const deadline = new Deadline(1000, clock.now)
    assert.equal(deadline.narrowed(300).limitMs, 300, 'the provider\'s own timeout is shorter')
    clock.advance(599.5)
    const rest = deadline.narrowed(60_000)
    assert.equal(rest.limitMs, 401, 'what is left, in whole milliseconds up')
    clock.advance(100)
    assert.equal(rest.remainingMs(), 301, 'the target\'s own clock started when it was narrowed')
    clock.advance(400)
    assert.equal(deadline.passed, true)
    assert.equal(deadline.narrowed(60_000).limitMs, 1)
  })
})
