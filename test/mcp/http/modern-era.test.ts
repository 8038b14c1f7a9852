import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isLegacyRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server'
import type { JsonRpcMessage } from '../../../src/mcp/http/json-rpc.js'
import { classifyMessage } from '../../../src/mcp/http/classified-message.js'
import { isPlainlyLegacy } from '../../../src/mcp/http/modern-era.js'

const call: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }
const claimed: JsonRpcMessage = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', _meta: { [PROTOCOL_VERSION_META_KEY]: '2026-07-28' } } }

/** What the SDK's own classification says of the same message and header. */
async function sdkSaysLegacy (message: JsonRpcMessage, version?: string): Promise<boolean> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  if (version !== undefined) headers['mcp-protocol-version'] = version
  return isLegacyRequest(new Request('http://localhost/mcp', { method: 'POST', headers }), message)
}

describe('isPlainlyLegacy: the 2025-era check that spares the SDK its schema validation', () => {
  test('agrees with the SDK wherever it answers true', async () => {
    const plain: [JsonRpcMessage, string | undefined][] = [
      [call, undefined],
      [call, '2025-06-18'],
      [call, ' 2025-11-25 '],
      [{ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }, undefined],
      [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, '2025-06-18'],
      [{ jsonrpc: '2.0', id: 3, result: {} }, undefined],
      [{ jsonrpc: '2.0', id: 4, method: 'ping', params: { _meta: { progressToken: 1 } } }, '2025-03-26'],
    ]
    for (const [message, version] of plain) {
      assert.equal(isPlainlyLegacy(classifyMessage(message), version), true, JSON.stringify([message, version]))
      assert.equal(await sdkSaysLegacy(message, version), true, JSON.stringify([message, version]))
    }
  })

  test('leaves to the SDK a 2026-07-28 claim, a 2026-07-28 header, and a repeated header', () => {
    assert.equal(isPlainlyLegacy(classifyMessage(claimed), undefined), false)
    assert.equal(isPlainlyLegacy(classifyMessage(claimed), '2025-06-18'), false, 'a claim against the header: the SDK answers the mismatch')
    assert.equal(isPlainlyLegacy(classifyMessage(call), '2026-07-28'), false, 'a modern header without the envelope: the SDK answers -32602')
    assert.equal(isPlainlyLegacy(classifyMessage(call), ['2025-06-18', '2026-07-28']), false)
  })
})
