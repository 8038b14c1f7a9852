import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, test } from 'node:test'
import { LinkedAbortController } from '../src/linked-abort.js'

describe('LinkedAbortController', () => {
  test('aborts with the reason of whichever source aborts first, and leaves no listener behind', () => {
    const client = new AbortController()
    const connection = new AbortController()
    const linked = new LinkedAbortController([client.signal, undefined, connection.signal])
    assert.equal(getEventListeners(client.signal, 'abort').length, 1)
    connection.abort(new Error('the client closed its connection'))
    assert.equal(linked.signal.aborted, true)
    assert.equal((linked.signal.reason as Error).message, 'the client closed its connection')
    assert.equal(getEventListeners(client.signal, 'abort').length, 0)
    client.abort(new Error('later'))
    assert.equal((linked.signal.reason as Error).message, 'the client closed its connection')
  })

  test('a source already aborted aborts it at once, without a listener on any source', () => {
    const first = new AbortController()
    const aborted = AbortSignal.abort(new Error('too late'))
    const linked = new LinkedAbortController([first.signal, aborted])
    assert.equal((linked.signal.reason as Error).message, 'too late')
    assert.equal(getEventListeners(first.signal, 'abort').length, 0)
  })

  test('once unlinked it follows no source, and can still be aborted itself', () => {
    const client = new AbortController()
    const linked = new LinkedAbortController([client.signal])
    linked.unlink()
    assert.equal(getEventListeners(client.signal, 'abort').length, 0)
    client.abort()
    assert.equal(linked.signal.aborted, false)
    linked.abort(new Error('shutting down'))
    assert.equal((linked.signal.reason as Error).message, 'shutting down')
  })
})
