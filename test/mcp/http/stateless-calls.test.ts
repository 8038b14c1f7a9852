import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { clientFingerprint, StatelessCalls } from '../../../src/mcp/http/stateless-calls.js'

describe('stateless cancellation matching', () => {
  const alice = clientFingerprint('10.0.0.1', { 'user-agent': 'agent/1.0' })
  const bob = clientFingerprint('10.0.0.1', { 'user-agent': 'agent/1.0', 'x-forwarded-for': '192.0.2.7' })

  test('cancels the one call with that id from that client, and nothing else', () => {
    const calls = new StatelessCalls()
    const mine = new AbortController()
    const theirs = new AbortController()
    calls.track(alice, 3, mine)
    calls.track(bob, 3, theirs)
    assert.equal(calls.cancel(alice, 3, 'stop'), true)
    assert.equal(mine.signal.aborted, true)
    assert.equal((mine.signal.reason as Error).message, 'stop')
    assert.equal(theirs.signal.aborted, false)
    assert.equal(calls.cancel(alice, '3', 'stop'), false, 'the string id "3" is another id')
  })

  test('an ambiguous or unknown id cancels nothing', () => {
    const calls = new StatelessCalls()
    const first = new AbortController()
    const second = new AbortController()
    const forgetFirst = calls.track(alice, 1, first)
    calls.track(alice, 1, second)
    assert.equal(calls.cancel(alice, 1, 'stop'), false)
    assert.equal(first.signal.aborted || second.signal.aborted, false)
    forgetFirst()
    assert.equal(calls.cancel(alice, 1, 'stop'), true)
    assert.equal(second.signal.aborted, true)
    assert.equal(calls.cancel(alice, 99, 'stop'), false)
  })
})
