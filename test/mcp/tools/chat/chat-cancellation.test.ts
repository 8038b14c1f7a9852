import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { errorMeta, textOf } from '../../../support/results.js'
import { initializeMessage, MCP_HEADERS, postMcp, startStack, type TestStack } from '../../../support/router.js'
import { waitFor } from '../../../support/wait-for.js'

const callMessage = (id: number, prompt: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'chat', arguments: { prompt }, _meta: { progressToken: `progress-${id}` } },
})

for (const mode of ['stateless', 'stateful'] as const) {
  describe(`cancelling a call (${mode})`, () => {
    let stack: TestStack
    before(async () => { stack = await startStack({ MCP_SESSIONS: mode }) })
    after(async () => {
      if (mode === 'stateful') await (stack.client.transport as StreamableHTTPClientTransport).terminateSession()
      await stack.close()
    })
    beforeEach(() => stack.upstream.reset())

    test('notifications/cancelled stops a streaming answer and closes the upstream connection', async () => {
      const { upstream, client } = stack
      upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'a long answer that streams slowly'), eventDelayMs: 100 })
      const controller = new AbortController()
      const pieces: string[] = []
      const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } }, undefined, {
        signal: controller.signal,
        onprogress: (update) => { if (update.message) pieces.push(update.message) },
      })
      await waitFor(() => pieces.length > 0, 'the first streamed text')
      controller.abort('user changed their mind')
      await assert.rejects(call)
      await waitFor(() => upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream connection to close')
      // The router is still fine afterwards.
      assert.equal(textOf(await client.callTool({ name: 'chat', arguments: { prompt: 'next' } })), 'echo: next')
    })

    test('the client closing its HTTP connection stops the call and the upstream request', async () => {
      const { upstream, router } = stack
      upstream.script('POST /v1/responses', { delayMs: 5000, json: upstream.responseBody('gpt-4.1-mini', 'too late') })
      const headers: Record<string, string> = { ...MCP_HEADERS }
      if (mode === 'stateful') {
        const init = await postMcp(router, initializeMessage)
        headers['mcp-session-id'] = init.headers.get('mcp-session-id')!
        headers['mcp-protocol-version'] = '2025-11-25'
        await init.text()
      }
      const connection = new AbortController()
      const pending = fetch(router.mcpUrl, { method: 'POST', headers, body: JSON.stringify(callMessage(7, 'hang up')), signal: connection.signal })
        .then(async (response) => response.text())
      await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream request')
      connection.abort()
      await assert.rejects(pending)
      await waitFor(() => upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream connection to close')
      await waitFor(() => router.app.inFlightCalls.size === 0, 'the call to end')
      if (mode === 'stateful') await fetch(router.mcpUrl, { method: 'DELETE', headers })
    })
  })
}

describe('connections sharing a request id', () => {
  test('closing one connection stops only its own call', async () => {
    const stack = await startStack()
    try {
      const { upstream, router } = stack
      upstream.script('POST /v1/responses',
        { delayMs: 5000, json: upstream.responseBody('gpt-4.1-mini', 'first') },
        { delayMs: 300, json: upstream.responseBody('gpt-4.1-mini', 'second') })
      const headers = { ...MCP_HEADERS, 'x-request-id': 'same-id' }
      const hangUp = new AbortController()
      const first = fetch(router.mcpUrl, { method: 'POST', headers, body: JSON.stringify(callMessage(1, 'one')), signal: hangUp.signal }).then(async (response) => response.text())
      await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the first upstream request')
      const second = fetch(router.mcpUrl, { method: 'POST', headers, body: JSON.stringify(callMessage(2, 'two')) }).then(async (response) => response.text())
      await waitFor(() => upstream.received('POST /v1/responses').length === 2, 'the second upstream request')
      hangUp.abort()
      await assert.rejects(first)
      assert.match(await second, /"text":"second"/)
      assert.equal(upstream.received('POST /v1/responses')[1]!.closedEarly, false)
    } finally {
      await stack.close()
    }
  })
})

describe('time limits', () => {
  let stack: TestStack
  // The limit leaves room for a loaded machine to deliver the first streamed piece in time; the
  // upstream is always far slower than it, so each call ends at the limit, never by finishing.
  before(async () => { stack = await startStack({ UPSTREAM_TIMEOUT_MS: '2000' }) })
  after(() => stack.close())
  beforeEach(() => stack.upstream.reset())

  test('timeout_ms lowers the limit for one call', async () => {
    stack.upstream.script('POST /v1/responses', { delayMs: 20_000, json: stack.upstream.responseBody('gpt-4.1-mini', 'late') })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', timeout_ms: 100 } })
    assert.equal(errorMeta(result).code, 'timeout')
    assert.match(textOf(result), /within 100 ms/)
    await waitFor(() => stack.upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream request to be abandoned')
  })

  test('timeout_ms cannot raise the limit above UPSTREAM_TIMEOUT_MS', async () => {
    stack.upstream.script('POST /v1/responses', { delayMs: 20_000, json: stack.upstream.responseBody('gpt-4.1-mini', 'late') })
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', timeout_ms: 60_000 } })
    assert.match(textOf(result), /within 2000 ms/)
  })

  test('the limit covers a streamed answer, not only its first byte', async () => {
    stack.upstream.script('POST /v1/responses', { json: stack.upstream.responseBody('gpt-4.1-mini', 'x'.repeat(800)), eventDelayMs: 50 })
    const pieces: string[] = []
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, undefined, { onprogress: (update) => { if (update.message) pieces.push(update.message) } })
    assert.ok(pieces.length > 0, 'some text arrived before the limit')
    assert.equal(errorMeta(result).code, 'timeout')
  })

  test('timeout_ms must be a positive integer', async () => {
    const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'hi', timeout_ms: 0 } })
    assert.equal(errorMeta(result).code, 'invalid_arguments')
    assert.match(textOf(result), /timeout_ms must be >= 1/)
  })
})
