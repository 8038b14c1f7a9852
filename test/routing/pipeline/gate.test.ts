import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ToolError } from '../../../src/errors.js'
import { Deadline } from '../../../src/routing/pipeline/deadline.js'
import { gate } from '../../../src/routing/pipeline/gate.js'
import { startCall } from '../../../src/routing/pipeline/upstream-call.js'
import { fakeProvider } from '../../support/pipeline.js'

const operation = { name: 'chat', operation: 'chat with gpt-test' } as const
const signal = new AbortController().signal

describe('gate', () => {
  test('tells the provider how each attempt ended: its success, or its failure', async () => {
    const { provider, exits } = fakeProvider('a', { timeoutMs: 1000 })
    const call = startCall(operation, { provider, model: 'gpt-test' }, signal, new Deadline(1000))
    assert.equal(await gate(call, async () => 'answer'), 'answer')
    const failure = new ToolError('upstream_unavailable', 'HTTP 503', { retryable: true })
    await assert.rejects(gate(call, async () => { throw failure }), (error) => error === failure)
    assert.deepEqual(exits, [
      { model: 'gpt-test', countTimeouts: true, error: undefined },
      { model: 'gpt-test', countTimeouts: true, error: failure },
    ])
  })

  test('a deadline shorter than the provider\'s own (the client\'s timeout_ms) does not count its timeouts against the provider', async () => {
    const { provider, exits } = fakeProvider('a', { timeoutMs: 1000 })
    await gate(startCall(operation, { provider }, signal, new Deadline(200)), async () => 'answer')
    assert.equal(exits[0]?.countTimeouts, false)
  })

  test('a refused attempt (circuit open, saturated) never reaches the upstream, and leaves as the provider\'s ToolError', async () => {
    const open = new ToolError('circuit_open', 'Provider "a" kept failing', { retryable: true, retryAfterSeconds: 30 })
    const { provider, exits } = fakeProvider('a', { refuse: () => open })
    await assert.rejects(gate(startCall(operation, { provider }, signal, new Deadline(1000)), async () => assert.fail('not called')), (error) => error === open)
    assert.deepEqual(exits, [])
  })

  test('a wait for a slot the caller stops is a cancellation', async () => {
    const caller = new AbortController()
    caller.abort(new Error('the client hung up'))
    const { provider } = fakeProvider('a')
    await assert.rejects(gate(startCall(operation, { provider }, caller.signal, new Deadline(1000)), async () => 'answer'), (error: ToolError) => {
      assert.equal(error.code, 'cancelled')
      return true
    })
  })
})
