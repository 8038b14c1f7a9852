import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { callerFingerprint, StatelessCalls } from '../../../src/mcp/http/stateless-calls.js'

describe('stateless cancellation matching', () => {
  const alice = callerFingerprint('10.0.0.1', { 'user-agent': 'agent/1.0' }, undefined)
  const bob = callerFingerprint('10.0.0.1', { 'user-agent': 'agent/1.0', 'x-forwarded-for': '192.0.2.7' }, undefined)

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

describe('caller fingerprints', () => {
  const headers = { 'user-agent': 'agent/1.0' }
  test('an authenticated caller is its client and principal, whatever credential text it sends', () => {
    const withToken = (token: string) => callerFingerprint('10.0.0.1', { ...headers, authorization: `Bearer ${token}` }, { client: 'staff', principal: 'alice' })
    assert.equal(withToken('first-token'), withToken('refreshed-token'))
    assert.notEqual(callerFingerprint('10.0.0.1', headers, { client: 'staff', principal: 'alice' }), callerFingerprint('10.0.0.1', headers, { client: 'staff', principal: 'bob' }), 'two principals of one client entry')
    assert.notEqual(callerFingerprint('10.0.0.1', headers, { client: 'team-a' }), callerFingerprint('10.0.0.1', headers, { client: 'team-b' }), 'two client keys')
    assert.notEqual(callerFingerprint('10.0.0.1', headers, { client: 'team-a' }), callerFingerprint('10.0.0.1', headers, undefined), 'a client and an open caller')
  })

  test('an open router tells callers apart by address, forwarding header, User-Agent and Authorization only', () => {
    const open = (address: string, extra: Record<string, string> = {}) =>
      callerFingerprint(address, { ...headers, ...extra }, undefined)
    assert.equal(open('10.0.0.1'), open('10.0.0.1'), 'the same address and User-Agent are one caller')
    assert.notEqual(open('10.0.0.1'), open('10.0.0.2'))
    assert.notEqual(open('10.0.0.1'), open('10.0.0.1', { 'user-agent': 'other/2.0' }))
    assert.notEqual(open('10.0.0.1'), open('10.0.0.1', { authorization: 'Bearer x' }))
  })
})
