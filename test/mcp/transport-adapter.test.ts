import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/server'
import { trace } from '@opentelemetry/api'
import { pino } from 'pino'
import { RouterKeys } from '../../src/access/router-keys.js'
import { classifyMessage } from '../../src/mcp/http/classified-message.js'
import { McpMessageLog } from '../../src/mcp/message-log.js'
import { authInfoCarrying } from '../../src/mcp/request-context.js'
import { watchTransport } from '../../src/mcp/transport-adapter.js'
import { BodyLogging } from '../../src/observability/log-bodies.js'
import { RouterMetrics } from '../../src/observability/metrics.js'
import { PriceTable } from '../../src/observability/prices.js'
import { LogCapture } from '../support/logs.js'

const UPSTREAM_KEY = 'sk-upstream-secret-0123456789abcdef'

/** A transport as a server leaves it once connected: its own `send`, and the server's `onmessage` and `onclose`. */
function connectedTransport () {
  const delivered: JSONRPCMessage[] = []
  const written: JSONRPCMessage[] = []
  let closed = false
  const transport: Transport = {
    start: async () => {},
    send: async (message) => { written.push(message) },
    close: async () => { transport.onclose?.() },
    onmessage: (message: JSONRPCMessage, _extra?: MessageExtraInfo) => { delivered.push(message) },
    onclose: () => { closed = true },
  }
  return { transport, delivered, written, isClosed: () => closed }
}

function messageLog (logs: LogCapture): McpMessageLog {
  const keys = new RouterKeys(() => [UPSTREAM_KEY])
  const sources = { openSessions: () => 0, sessionsTakenOver: () => 0, inFlightCalls: () => 0 }
  return new McpMessageLog({
    log: pino({ level: 'debug' }, logs.stream),
    metrics: new RouterMetrics({ prices: new PriceTable(), knownModels: [], sources }),
    tracer: trace.getTracer('test'),
    bodies: new BodyLogging({ mode: 'none', maxChars: 100, keys }),
    keys,
  })
}

describe('watchTransport: the one place messages in and out of a transport pass', () => {
  test('a request in is pending under the HTTP request id; its response out is cleared of the router\'s keys and ends it', async () => {
    const logs = new LogCapture()
    const messages = messageLog(logs)
    const { transport, delivered, written } = connectedTransport()
    watchTransport(transport, messages)

    const call = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }
    const context = { requestId: 'http-req-1', message: classifyMessage(call) }
    transport.onmessage?.(call, { authInfo: authInfoCarrying(context) })
    assert.deepEqual(delivered, [call], 'the server still gets the message')
    assert.equal(messages.pending, 1)

    const leaked = { jsonrpc: '2.0' as const, id: 1, result: { content: [{ type: 'text', text: `the key is ${UPSTREAM_KEY}` }] } }
    await transport.send(leaked)
    assert.equal(messages.pending, 0)
    assert.doesNotMatch(JSON.stringify(written), /sk-upstream-secret/)
    const [line] = logs.find({ reqId: 'http-req-1', rpcMethod: 'tools/call' })
    assert.equal(line?.outcome, 'ok')
    assert.equal(line?.tool, 'echo')
  })

  test('over stdio (no HTTP context) the message is classified here; a close abandons what is still unanswered', async () => {
    const logs = new LogCapture()
    const messages = messageLog(logs)
    const { transport, isClosed } = connectedTransport()
    watchTransport(transport, messages)

    transport.onmessage?.({ jsonrpc: '2.0', id: 'a', method: 'tools/list' })
    assert.equal(messages.pending, 1)
    await transport.close()
    assert.equal(isClosed(), true, 'the server hears of the close too')
    assert.equal(messages.pending, 0)
    assert.equal(logs.find({ rpcMethod: 'tools/list' })[0]?.outcome, 'abandoned')
  })
})
