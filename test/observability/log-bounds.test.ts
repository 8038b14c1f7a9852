import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { initializeMessage, postMcp, type RunningRouter, startRouter } from '../support/router.js'

/** A client string of a megabyte, as a hostile client sends it wherever a name or id goes. */
const HUGE = 'x'.repeat(1_000_000)
/**
 * Far above any bounded line (a few bounded fields of ~2,000 characters each), far below a line
 * quoting {@link HUGE}.
 */
const MAX_LINE_CHARS = 20_000

describe('client strings in log lines', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  const logs = new LogCapture()
  const spans = new InMemorySpanExporter()

  before(async () => {
    upstream = await FakeOpenAI.start()
    // One of the refused exchanges leaves a connection Node does not count as idle, which app.close()
    // waits out for the keep-alive timeout (72 s by default); a short one keeps the test to its subject.
    router = await startRouter(upstream, { LOG_LEVEL: 'debug', LOG_BODIES: 'truncated', KEEP_ALIVE_TIMEOUT_MS: '1000' }, { logs, spanExporter: spans })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('a megabyte method name, tool name, request id, cancelled id or header writes bounded lines that still say what happened', async () => {
    const sent = [
      { jsonrpc: '2.0', id: 1, method: HUGE },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: HUGE, arguments: {} } },
      { jsonrpc: '2.0', id: HUGE, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: HUGE, reason: HUGE } },
      { jsonrpc: '2.0', method: HUGE },
      initializeMessage,
    ]
    for (const message of sent) {
      const response = await postMcp(router, message, { 'mcp-protocol-version': '2025-11-25' })
      await response.body?.cancel()
    }
    const refused = await postMcp(router, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': HUGE.slice(0, 10_000) })
    await refused.body?.cancel()
    const unsupported = await fetch(router.mcpUrl, { method: 'POST', headers: { 'content-type': `text/${'y'.repeat(10_000)}` }, body: 'x' })
    await unsupported.body?.cancel()

    assert.ok(logs.raw.length >= sent.length, 'every message was logged')
    for (const line of logs.raw) assert.ok(line.length < MAX_LINE_CHARS, `a ${line.length}-character line: ${line.slice(0, 200)}`)
    const huge = logs.lines.find((line) => typeof line.rpcMethod === 'string' && line.rpcMethod.startsWith('xxx'))
    assert.match(String(huge?.rpcMethod), /^x+… \[\d+ more characters\]$/, 'the method is quoted, then cut, saying by how much')
    assert.match(String(huge?.msg), /^x+… \[\d+ more characters\]$/)
  })

  test('span names and attributes quoting a megabyte tool or model name are bounded too', async () => {
    const calls = [
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: HUGE, arguments: {} } },
      { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hi', model: HUGE } } },
    ]
    for (const message of calls) {
      const response = await postMcp(router, message, { 'mcp-protocol-version': '2025-11-25' })
      await response.body?.cancel()
    }
    const finished = spans.getFinishedSpans()
    assert.ok(finished.some((span) => span.name.startsWith('tools/call xxx')), 'the call with the huge tool name has its span')
    assert.ok(finished.some((span) => span.name.startsWith('chat xxx')), 'the upstream call with the huge model name has its span')
    for (const span of finished) {
      assert.ok(span.name.length < 400, `a ${span.name.length}-character span name`)
      for (const [name, value] of Object.entries(span.attributes)) assert.ok(typeof value !== 'string' || value.length <= 256, `${name}: ${String(value).length} characters`)
    }
  })
})
