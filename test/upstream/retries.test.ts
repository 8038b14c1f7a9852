import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { errorBody } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta, textOf } from '../support/results.js'
import { startStack, type TestStack } from '../support/router.js'

const ROUTE = 'POST /v1/responses'
const overloaded = { status: 503, json: errorBody('Overloaded', 'server_error') }

describe('upstream retries (the router\'s own policy)', () => {
  let stack: TestStack
  const logs = new LogCapture()

  before(async () => {
    stack = await startStack({ UPSTREAM_MAX_RETRIES: '2', UPSTREAM_RETRY_BASE_MS: '10', UPSTREAM_TIMEOUT_MS: '3000', LOG_LEVEL: 'info' }, { logs })
  })
  after(async () => { await stack.close() })
  beforeEach(() => stack.upstream.reset())

  test('a 503 then success: the call succeeds after one retry, which is logged and counted', async () => {
    stack.upstream.script(ROUTE, overloaded)
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(result.isError, undefined)
    assert.equal(textOf(result), 'echo: Hello')
    assert.equal(stack.upstream.received(ROUTE).length, 2)
    const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'chat', retries: 1 })
    assert.equal(line?.outcome, 'ok')
    const samples = parseExposition(await (await fetch(`${stack.router.url}/metrics`)).text())
    assert.equal(sampleValue(samples, 'mcp_router_upstream_retries_total', { operation: 'chat', code: 'upstream_unavailable' }), 1)
  })

  test('honours Retry-After: the next attempt waits as long as the upstream asked', async () => {
    stack.upstream.script(ROUTE, { status: 429, json: errorBody('Slow down', 'rate_limit_error'), headers: { 'retry-after-ms': '400' } })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(result.isError, undefined)
    const [first, second] = stack.upstream.received(ROUTE)
    assert.ok(first && second)
    assert.ok(second.at - first.at >= 390, `waited ${Math.round(second.at - first.at)} ms`)
  })

  test('gives up after UPSTREAM_MAX_RETRIES with the last failure', async () => {
    stack.upstream.script(ROUTE, overloaded, overloaded, overloaded, overloaded)
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(errorMeta(result).code, 'upstream_unavailable')
    assert.equal(stack.upstream.received(ROUTE).length, 3)
  })

  const notRetried: Array<[string, object, string]> = [
    ['an exhausted quota', { status: 429, json: errorBody('No quota', 'insufficient_quota', 'insufficient_quota') }, 'quota_exceeded'],
    ['a 400', { status: 400, json: errorBody('Bad temperature', 'invalid_request_error') }, 'upstream_rejected'],
    ['a 501', { status: 501, json: errorBody('Not implemented', 'server_error') }, 'upstream_unavailable'],
    ['a 401', { status: 401, json: errorBody('Bad key', 'invalid_request_error', 'invalid_api_key') }, 'upstream_auth'],
  ]
  for (const [what, reply, code] of notRetried) {
    test(`does not retry ${what}`, async () => {
      stack.upstream.script(ROUTE, reply)
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
      assert.equal(errorMeta(result).code, code)
      assert.equal(stack.upstream.received(ROUTE).length, 1)
    })
  }

  test('does not wait past the call\'s deadline: a Retry-After longer than the time left fails at once', async () => {
    stack.upstream.script(ROUTE, { status: 429, json: errorBody('Slow down', 'rate_limit_error'), headers: { 'retry-after': '30' } })
    const started = performance.now()
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(errorMeta(result).code, 'rate_limited')
    assert.equal(errorMeta(result).retryAfterSeconds, 30)
    assert.ok(performance.now() - started < 1000)
    assert.equal(stack.upstream.received(ROUTE).length, 1)
  })

  test('retries a stream that broke before the client saw any of it, never one it had started to show', async () => {
    // Without a progress token nothing was shown: the dropped attempt is repeated.
    stack.upstream.script(ROUTE, { drop: true })
    const quiet = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(quiet.isError, undefined)
    assert.equal(stack.upstream.received(ROUTE).length, 2)

    stack.upstream.reset()
    stack.upstream.script(ROUTE, { json: stack.upstream.responseBody('gpt-4.1-mini', 'abcdefghijklmnop'), dropAfterEvents: 6 })
    const shown: string[] = []
    const streamed = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } }, undefined, {
      onprogress: ({ message }) => { if (message) shown.push(message) },
    })
    assert.equal(errorMeta(streamed).code, 'upstream_unavailable')
    assert.ok(shown.join('').length > 0, 'part of the answer had been shown')
    assert.equal(stack.upstream.received(ROUTE).length, 1)
  })
})
