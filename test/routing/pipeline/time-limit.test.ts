import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { ToolError } from '../../../src/errors.js'
import { attempt } from '../../../src/routing/pipeline/attempt.js'
import { Deadline } from '../../../src/routing/pipeline/deadline.js'
import { wrap } from '../../../src/routing/pipeline/policy.js'
import { timeLimit } from '../../../src/routing/pipeline/time-limit.js'
import { startCall, type UpstreamCall } from '../../../src/routing/pipeline/upstream-call.js'
import { fakeProvider } from '../../support/pipeline.js'

const operation = { name: 'chat', operation: 'chat with gpt-test' } as const
const limited = wrap<UpstreamCall>(timeLimit, attempt)

/** An upstream that answers only by failing once its signal aborts, as the SDK does. */
async function hang (signal: AbortSignal): Promise<never> {
  await once(signal, 'abort')
  throw signal.reason
}

describe('timeLimit', () => {
  test('stops the call at the call\'s deadline and says so, naming the limit', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { provider } = fakeProvider('a')
    const call = startCall(operation, { provider, model: 'gpt-test' }, new AbortController().signal, new Deadline(500))
    let settled = false
    const result = limited(call, async ({ signal }) => hang(signal)).finally(() => { settled = true })
    t.mock.timers.tick(499)
    await new Promise(setImmediate)
    assert.equal(settled, false, 'still running 1 ms before its deadline')
    t.mock.timers.tick(1)
    await assert.rejects(result, (error: ToolError) => {
      assert.equal(error.code, 'timeout')
      assert.match(error.message, /did not finish chat with gpt-test within 500 ms/)
      return true
    })
  })

  test('a provider\'s own timeout shorter than the call\'s deadline bounds the call to it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { provider } = fakeProvider('a', { timeoutMs: 200 })
    let limitSeen = 0
    const call = startCall(operation, { provider }, new AbortController().signal, new Deadline(500))
    const result = limited(call, async (inner) => {
      limitSeen = inner.deadline.limitMs
      return hang(inner.signal)
    })
    t.mock.timers.tick(200)
    await assert.rejects(result, /within 200 ms/)
    assert.equal(limitSeen, 200)
  })

  test('the caller stopping the call is a cancellation, with the caller\'s reason, not a timeout', async () => {
    const { provider } = fakeProvider('a')
    const caller = new AbortController()
    const call = startCall(operation, { provider }, caller.signal, new Deadline(60_000))
    const result = limited(call, async ({ signal }) => hang(signal))
    caller.abort(new Error('the client hung up'))
    await assert.rejects(result, (error: ToolError) => {
      assert.equal(error.code, 'cancelled')
      assert.match(error.message, /the client hung up/)
      return true
    })
  })

  test('an answer in time comes back as it is, and its signal never aborts', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { provider } = fakeProvider('a')
    let inner: AbortSignal | undefined
    const call = startCall(operation, { provider }, new AbortController().signal, new Deadline(50))
    assert.equal(await limited(call, async ({ signal }) => {
      inner = signal
      return 'answer'
    }), 'answer')
    t.mock.timers.tick(100)
    assert.equal(inner?.aborted, false, 'the timer was cleared with the call')
  })
})

describe('attempt', () => {
  test('what the upstream threw leaves as a ToolError that names the operation\'s provider settings', async () => {
    const { provider } = fakeProvider('a')
    const call = startCall(operation, { provider, model: 'gpt-test' }, new AbortController().signal, new Deadline(1000))
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) })
    const { APIConnectionError } = await import('openai')
    const unreachable = async () => { throw new APIConnectionError({ cause: refused }) }
    await assert.rejects(attempt(call, unreachable), (error: ToolError) => {
      assert.ok(error instanceof ToolError)
      assert.equal(error.code, 'upstream_unavailable')
      assert.match(error.message, /Cannot reach the upstream at http:\/\/a\.test:8080\/v1 for chat with gpt-test \(ECONNREFUSED\)/)
      assert.match(error.message, /OPENAI_BASE_URL/)
      return true
    })
  })
})
