import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { errorCodes, type FastifyError } from 'fastify'
import { jsonRpcErrorFor } from '../../src/mcp/http/json-rpc-errors.js'
import { ConfigError, RateLimitedError, RouterErrorCode } from '../../src/errors.js'
import { build } from '../support/app.js'
import { MCP_HEADERS } from '../support/router.js'

const validationError = (validation: FastifyError['validation']): FastifyError =>
  Object.assign(new Error('body/id must be string'), { code: 'FST_ERR_VALIDATION', statusCode: 400, validation, validationContext: 'body' as const })

describe('refusals of /mcp as JSON-RPC errors (jsonRpcErrorFor)', () => {
  test('the rate limiter\'s refusal is recognised by its code and keeps its message', () => {
    const refusal = new RateLimitedError('client "team-a" may send 4 requests per minute to /mcp (its requestsPerMinute); retry in 1 minute')
    assert.equal(refusal.code, RouterErrorCode.RateLimited)
    assert.equal(refusal.statusCode, 429)
    assert.deepEqual(jsonRpcErrorFor(refusal, undefined, 1024), [429, {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Too Many Requests: client "team-a" may send 4 requests per minute to /mcp (its requestsPerMinute); retry in 1 minute' },
    }])
  })

  test('a status alone says nothing: an error without the limiter\'s code but with statusCode 429 is the router\'s own failure, and its message stays in the log', () => {
    const [status, body] = jsonRpcErrorFor(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:6379'), { code: 'ECONNREFUSED', statusCode: 429 }), undefined, 1024)
    assert.equal(status, 500)
    assert.equal(body.error.code, -32603)
    assert.doesNotMatch(body.error.message, /ECONNREFUSED/)
  })

  test('Fastify\'s own refusals by their codes', () => {
    assert.deepEqual(jsonRpcErrorFor(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined, 2048),
      [413, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Payload Too Large: the body must not exceed 2048 bytes (MAX_BODY_BYTES)' } }])
    assert.deepEqual(jsonRpcErrorFor(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE('text/plain'), undefined, 2048),
      [415, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' } }])
    const unparsable = [new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY()]
    for (const error of unparsable) {
      assert.deepEqual(jsonRpcErrorFor(error, undefined, 2048), [400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } }])
    }
  })

  test('a body that fails the schema: a batch is named as one, anything else by what is wrong with it', () => {
    const validation = [{ keyword: 'type', instancePath: '/id', schemaPath: '#/properties/id/type', params: { type: 'string' }, message: 'must be string' }]
    const [batchStatus, batch] = jsonRpcErrorFor(validationError(validation), [{ jsonrpc: '2.0' }], 2048)
    assert.equal(batchStatus, 400)
    assert.deepEqual(batch.error, { code: -32600, message: 'Invalid Request: the body is a JSON array (batches are not supported; send one message per request)' })
    const [, single] = jsonRpcErrorFor(validationError(validation), { jsonrpc: '2.0', id: true }, 2048)
    assert.equal(single.error.code, -32600)
    assert.match(single.error.message, /^Invalid Request: the body is not a JSON-RPC 2\.0 message \(.+\)$/)
  })

  test('a body with a __proto__ key is a parse error (Fastify\'s parser refuses it with its own code), not a failure of the router', async (t) => {
    const app = await build(t, { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' })
    const response = await app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"polluted":true}}' })
    assert.equal(response.statusCode, 400)
    assert.deepEqual(response.json(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } })
  })

  test('a header that fails its schema is a Bad Request naming it', () => {
    const error = Object.assign(new Error('headers/mcp-session-id must be string'), { code: 'FST_ERR_VALIDATION', validation: [], validationContext: 'headers' as const })
    assert.deepEqual(jsonRpcErrorFor(error, undefined, 2048), [400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: headers/mcp-session-id must be string' } }])
  })
})

describe('ConfigError', () => {
  test('says "Invalid configuration:" itself, once, before the problem its thrower names', () => {
    const error = new ConfigError('PORT must be integer')
    assert.equal(error.message, 'Invalid configuration: PORT must be integer')
    assert.equal(String(error), 'ConfigError: Invalid configuration: PORT must be integer')
  })
})
