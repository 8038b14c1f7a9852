import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server'
import { classifyMessage } from '../../../src/mcp/http/classified-message.js'

describe('classifyMessage: one reading of a JSON-RPC message', () => {
  test('a tools/call: its id, method, tool, arguments and progress token', () => {
    const message = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hi' }, _meta: { progressToken: 'p1' } } }
    assert.deepEqual(classifyMessage(message), {
      kind: 'request',
      id: 7,
      method: 'tools/call',
      params: message.params,
      claimsModernEnvelope: false,
      tool: 'chat',
      toolArguments: { prompt: 'hi' },
      progressToken: 'p1',
    })
  })

  test('a tools/call whose params are wrong says what is wrong, in words', () => {
    const noName = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 3 } })
    assert.equal(noName.kind === 'request' && noName.invalidParams, 'params.name must be the name of a tool, as a string (tools/list lists them)')
    assert.equal(noName.kind === 'request' && noName.tool, undefined)
    const listArguments = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: ['x'] } })
    assert.equal(listArguments.kind === 'request' && listArguments.invalidParams, 'params.arguments must be an object of named arguments')
    const fine = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } })
    assert.equal(fine.kind === 'request' && fine.invalidParams, undefined)
    assert.equal(fine.kind === 'request' && fine.progressToken, undefined)
  })

  test('an initialize request keeps its params; other methods have no tool', () => {
    const params = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } }
    const initialize = classifyMessage({ jsonrpc: '2.0', id: 0, method: 'initialize', params })
    assert.equal(initialize.kind === 'request' && initialize.initialize, params)
    const list = classifyMessage({ jsonrpc: '2.0', id: 'a', method: 'tools/list' })
    assert.deepEqual(list, { kind: 'request', id: 'a', method: 'tools/list', params: undefined, claimsModernEnvelope: false })
  })

  test('a cancellation names the call it stops; one without a request id cancels nothing', () => {
    assert.deepEqual(classifyMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1', reason: 'user' } }), {
      kind: 'notification',
      method: 'notifications/cancelled',
      params: { requestId: 'c1', reason: 'user' },
      claimsModernEnvelope: false,
      cancels: { requestId: 'c1', reason: 'user' },
    })
    const unnamed = classifyMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: null } })
    assert.equal(unnamed.kind === 'notification' && unnamed.cancels, undefined)
    const other = classifyMessage({ jsonrpc: '2.0', method: 'notifications/initialized' })
    assert.equal(other.kind === 'notification' && other.cancels, undefined)
    // A request that happens to use the method is no cancellation (a notification has no id).
    assert.equal(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'notifications/cancelled', params: { requestId: 2 } }).kind, 'request')
  })

  test('the 2026-07-28 envelope is a claim of the `_meta` protocol version, on requests and notifications', () => {
    const meta = { [PROTOCOL_VERSION_META_KEY]: '2026-07-28' }
    const request = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } })
    assert.equal(request.kind === 'request' && request.claimsModernEnvelope, true)
    const notification = classifyMessage({ jsonrpc: '2.0', method: 'notifications/x', params: { _meta: meta } })
    assert.equal(notification.kind === 'notification' && notification.claimsModernEnvelope, true)
    const progressOnly = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { progressToken: 1 } } })
    assert.equal(progressOnly.kind === 'request' && progressOnly.claimsModernEnvelope, false)
  })

  test('results and errors: their id, the result, the error code and message', () => {
    assert.deepEqual(classifyMessage({ jsonrpc: '2.0', id: 3, result: { isError: true } }), { kind: 'response', id: 3, result: { isError: true } })
    assert.deepEqual(classifyMessage({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'bad' } }), { kind: 'error', id: null, code: -32600, message: 'bad' })
    assert.deepEqual(classifyMessage({ jsonrpc: '2.0', id: 'r', error: { code: -32603, message: 'oops' } }), { kind: 'error', id: 'r', code: -32603, message: 'oops' })
  })
})
