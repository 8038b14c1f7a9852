import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { errorBody, FakeOpenAI, type ScriptedReply } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { waitFor } from '../support/wait-for.js'
import { connectClient, initializeMessage, MCP_HEADERS, postMcp, type RunningRouter, startRouter, TEST_API_KEY } from '../support/router.js'

const WARN = 40
const INFO = 30
const DEBUG = 20

describe('MCP message log lines', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  let client: Client
  const logs = new LogCapture()

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { LOG_LEVEL: 'debug', MODEL: 'gpt-4.1-mini' }, { logs })
    client = await connectClient(router, { headers: { 'x-request-id': 'req-from-client-1' } })
  })
  after(async () => {
    await client.close()
    await router.close()
    await upstream.close()
  })
  beforeEach(() => upstream.reset())

  test('a successful chat: one info line with models, tokens, upstream time and the request id', async () => {
    upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini-2025-04-14', 'Hi!') })
    const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    assert.equal(result.isError, undefined)

    const lines = logs.find({ reqId: 'req-from-client-1', rpcMethod: 'tools/call', tool: 'chat' })
    assert.equal(lines.length, 1)
    const [line] = lines
    assert.ok(line)
    assert.equal(line.level, INFO)
    assert.equal(line.msg, 'tools/call chat: ok')
    assert.equal(line.outcome, 'ok')
    assert.equal(line.modelRequested, 'gpt-4.1-mini')
    assert.equal(line.modelAnswered, 'gpt-4.1-mini-2025-04-14')
    assert.equal(line.inputTokens, 11)
    assert.equal(line.outputTokens, 7)
    assert.equal(line.upstreamCalls, 1)
    assert.equal(typeof line.upstreamMs, 'number')
    assert.ok((line.durationMs as number) >= (line.upstreamMs as number))
    assert.equal(line.arguments, undefined, 'LOG_BODIES=none logs no arguments')
    assert.equal(line.result, undefined)
    // The POST that carried it adds no line of its own (other HTTP requests, such as the client's GET, do).
    const httpLines = logs.find({ reqId: 'req-from-client-1', msg: 'request completed' })
    assert.deepEqual(httpLines.filter((httpLine) => (httpLine.req as { method: string }).method === 'POST'), [])
  })

  test('the request id reaches the upstream as X-Client-Request-Id and comes back in x-request-id', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'list_models', arguments: {} } }, { 'x-request-id': 'correlate-me-42' })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('x-request-id'), 'correlate-me-42')
    await response.text()
    const [sent] = upstream.received('GET /v1/models')
    assert.equal(sent?.headers['x-client-request-id'], 'correlate-me-42')
    assert.equal(logs.find({ reqId: 'correlate-me-42', rpcMethod: 'tools/call', tool: 'list_models' }).length, 1)
  })

  test('an upstream call logs at debug with its provider, operation, model, timing and status', async () => {
    upstream.script('POST /v1/responses', { status: 503, json: errorBody('Overloaded', 'server_error') })
    await client.callTool({ name: 'chat', arguments: { prompt: 'Hello', model: 'gpt-4.1' } })
    const line = logs.find({ msg: 'upstream call finished', model: 'gpt-4.1' }).at(-1)
    assert.ok(line)
    assert.equal(line.level, 20)
    assert.equal(line.provider, 'openai')
    assert.equal(line.operation, 'chat')
    assert.equal(line.outcome, 'upstream_unavailable')
    assert.equal(line.upstreamStatus, 503)
    assert.equal(typeof line.durationMs, 'number')
  })

  test('a tool error: a warn line with its error code', async () => {
    upstream.script('POST /v1/responses', { status: 429, json: errorBody('Slow down', 'rate_limit_error'), headers: { 'retry-after': '3' } })
    const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Hello', model: 'gpt-4.1' } })
    assert.equal(result.isError, true)
    const line = logs.find({ rpcMethod: 'tools/call', tool: 'chat', errorCode: 'rate_limited' }).at(-1)
    assert.ok(line)
    assert.equal(line.level, WARN)
    assert.equal(line.outcome, 'tool_error')
    assert.equal(line.modelRequested, 'gpt-4.1')
    assert.equal(line.modelAnswered, undefined)
  })

  const failures: Array<[string, ScriptedReply | undefined, Record<string, unknown>, string]> = [
    ['refused credentials', { status: 401, json: errorBody('Bad key', 'invalid_request_error', 'invalid_api_key') }, {}, 'upstream_auth'],
    ['an unknown model', { status: 404, json: errorBody('No such model', 'invalid_request_error', 'model_not_found') }, {}, 'model_not_found'],
    ['a server error', { status: 500, json: errorBody('Boom', 'server_error') }, {}, 'upstream_unavailable'],
    ['a dropped connection', { drop: true }, {}, 'upstream_unavailable'],
    ['a timeout', { delayMs: 500 }, { timeout_ms: 50 }, 'timeout'],
    ['invalid arguments', undefined, { temperature: 'hot' }, 'invalid_arguments'],
  ]
  for (const [kind, reply, args, errorCode] of failures) {
    test(`${kind}: a warn line with errorCode ${errorCode}`, async () => {
      if (reply) upstream.script('POST /v1/responses', reply)
      const requestId = `failure-${errorCode}-${kind.replaceAll(' ', '-')}`
      const response = await postMcp(router, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'Hello', ...args } } }, { 'x-request-id': requestId })
      await response.text()
      const [line] = logs.find({ reqId: requestId, rpcMethod: 'tools/call' })
      assert.ok(line)
      assert.equal(line.level, WARN)
      assert.equal(line.outcome, 'tool_error')
      assert.equal(line.errorCode, errorCode)
      assert.equal(line.msg, 'tools/call chat: tool_error')
    })
  }

  test('a call whose client hung up is logged as abandoned', async () => {
    upstream.script('POST /v1/responses', { delayMs: 2000 })
    const hangUp = new AbortController()
    const response = fetch(router.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-request-id': 'hung-up' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'slow' } } }),
      signal: hangUp.signal,
    })
    await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream call')
    hangUp.abort()
    await assert.rejects(response)
    await waitFor(() => logs.find({ reqId: 'hung-up', rpcMethod: 'tools/call' }).length === 1, 'the message line')
    assert.equal(logs.find({ reqId: 'hung-up', rpcMethod: 'tools/call' })[0]?.outcome, 'abandoned')
  })

  test('a JSON-RPC error: the error code is the outcome', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 'x1', method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, { 'x-request-id': 'unknown-tool-call' })
    const body = await response.json() as { error: { code: number } }
    assert.equal(body.error.code, -32602)
    const [line] = logs.find({ reqId: 'unknown-tool-call' })
    assert.ok(line)
    assert.equal(line.outcome, '-32602')
    assert.equal(line.rpcErrorCode, -32602)
    assert.equal(line.level, WARN)
    assert.match(String(line.error), /Unknown tool: no_such_tool/)

    await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'no/such/method' }, { 'x-request-id': 'unknown-method' })
    assert.equal(logs.find({ reqId: 'unknown-method' })[0]?.outcome, '-32601')
  })

  test('a server/discover without an envelope is a 2025 request, refused by the method at debug; with a modern header and no envelope, the 2026-07-28 era refuses it', async () => {
    const discover = { jsonrpc: '2.0', id: 3, method: 'server/discover', params: {} }
    assert.equal((await postMcp(router, discover, { 'x-request-id': 'discover-method' })).status, 200)
    assert.equal((await postMcp(router, discover, { 'x-request-id': 'discover-modern', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' })).status, 400)
    assert.deepEqual(['discover-method', 'discover-modern'].map((reqId) => logs.find({ reqId, rpcMethod: 'server/discover' }).map((line) => [line.outcome, line.level])), [[['-32601', DEBUG]], [['http_400', INFO]]])
  })

  test('other requests and notifications get a line each', async () => {
    await postMcp(router, initializeMessage, { 'x-request-id': 'init-1' })
    await postMcp(router, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'x-request-id': 'notify-1' })
    assert.equal(logs.find({ reqId: 'init-1', rpcMethod: 'initialize', outcome: 'ok' }).length, 1)
    assert.equal(logs.find({ reqId: 'notify-1', rpcMethod: 'notifications/initialized', outcome: 'ok' }).length, 1)
  })

  test('a message the transport refuses is logged with its HTTP status', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'x-request-id': 'bad-version', 'mcp-protocol-version': '1999-01-01' })
    assert.equal(response.status, 400)
    assert.equal(logs.find({ reqId: 'bad-version', rpcMethod: 'tools/list' })[0]?.outcome, 'http_400')
  })
})

describe('MCP message log lines in stateful mode', () => {
  test('carry the session id', async () => {
    const upstream = await FakeOpenAI.start()
    const logs = new LogCapture()
    const router = await startRouter(upstream, { LOG_LEVEL: 'info', MCP_SESSIONS: 'stateful' }, { logs })
    const client = await connectClient(router)
    try {
      await client.callTool({ name: 'echo', arguments: { text: 'hi' } })
      const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'echo' })
      assert.ok(line)
      assert.match(String(line.sessionId), /^[0-9a-f-]{36}$/)
      assert.equal(logs.find({ rpcMethod: 'initialize' })[0]?.sessionId, line.sessionId)
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('LOG_BODIES', () => {
  const longText = 'x'.repeat(300)

  for (const mode of ['none', 'truncated', 'full'] as const) {
    test(`${mode}: arguments and results ${mode === 'none' ? 'stay out of' : 'appear in'} the line`, async () => {
      const upstream = await FakeOpenAI.start()
      const logs = new LogCapture()
      const router = await startRouter(upstream, { LOG_LEVEL: 'info', LOG_BODIES: mode, LOG_BODY_MAX_CHARS: '100' }, { logs })
      const client = await connectClient(router)
      try {
        await client.callTool({ name: 'echo', arguments: { text: longText } })
        const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'echo' })
        assert.ok(line)
        if (mode === 'none') {
          assert.equal(line.arguments, undefined)
          assert.equal(line.result, undefined)
          return
        }
        const args = String(line.arguments)
        const result = String(line.result)
        if (mode === 'full') {
          assert.deepEqual(JSON.parse(args), { text: longText })
          assert.ok(result.includes(longText))
        } else {
          assert.ok(args.startsWith(`{"text":"${'x'.repeat(50)}`))
          assert.match(args, /… \[\d+ more characters\]$/)
          assert.ok(args.length < 150)
          assert.match(result, /… \[\d+ more characters\]$/)
        }
      } finally {
        await client.close()
        await router.close()
        await upstream.close()
      }
    })
  }
})

describe('LOG_BODIES with a body nested deeper than the renderer walks', () => {
  /** A ping whose params nest `depth` objects deep: any JSON-RPC client may send one. */
  function deepPing (depth: number): string {
    return `{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`
  }

  for (const sessions of ['stateless', 'stateful'] as const) {
    for (const mode of ['truncated', 'full'] as const) {
      test(`${sessions}, ${mode}: the ping is answered and its line logged`, async () => {
        const upstream = await FakeOpenAI.start()
        const logs = new LogCapture()
        const router = await startRouter(upstream, { LOG_LEVEL: 'info', LOG_BODIES: mode, MCP_SESSIONS: sessions }, { logs })
        try {
          const headers: Record<string, string> = {}
          if (sessions === 'stateful') {
            const opened = await postMcp(router, initializeMessage)
            headers['mcp-session-id'] = opened.headers.get('mcp-session-id') ?? ''
            await opened.text()
          }
          // Bounded: before the fix the answer never came.
          const response = await fetch(router.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: deepPing(5000), signal: AbortSignal.timeout(10_000) })
          assert.equal(response.status, 200)
          assert.match(await response.text(), /"id":5,"result":\{\}|"result":\{\},"jsonrpc":"2.0","id":5/)
          await waitFor(() => logs.find({ rpcMethod: 'ping', outcome: 'ok' }).length === 1, 'the ping\'s log line')
          const [line] = logs.find({ rpcMethod: 'ping', outcome: 'ok' })
          assert.match(String(line?.arguments), /nested too deep/)
        } finally {
          await router.close()
          await upstream.close()
        }
      })
    }
  }
})

describe('secrets in logs', () => {
  test('no key, bearer token or password survives at any level, bodies included', async () => {
    const upstream = await FakeOpenAI.start()
    const logs = new LogCapture()
    const router = await startRouter(upstream, { LOG_LEVEL: 'trace', LOG_BODIES: 'full' }, { logs })
    const clientToken = 'client-bearer-token-0123456789'
    const pastedKey = 'sk-proj-abcdefghijklmnopqrstuvwxyz'
    const password = 'hunter2-correct-horse'
    const client = await connectClient(router, { headers: { authorization: `Bearer ${clientToken}`, 'x-api-key': 'x-api-key-value-123456' } })
    try {
      // Echo sends every secret back in its result; the invalid call puts them in the logged arguments.
      await client.callTool({ name: 'echo', arguments: { text: `my key ${pastedKey}, the router's ${TEST_API_KEY}, auth Bearer ${clientToken}` } })
      await client.callTool({ name: 'chat', arguments: { prompt: 'hi', api_key: pastedKey, password, nested: { access_token: clientToken } } })
      await client.callTool({ name: 'chat', arguments: { prompt: `use ${pastedKey}` } })

      const all = logs.raw.join('\n')
      assert.ok(logs.find({ rpcMethod: 'tools/call', tool: 'echo' })[0]?.result, 'bodies were logged')
      for (const secret of [TEST_API_KEY, clientToken, pastedKey, password, 'x-api-key-value-123456']) {
        assert.ok(!all.includes(secret), `${secret} must not appear in the log`)
      }
      assert.ok(all.includes('[redacted]'))
      // What is not a secret stays readable.
      assert.ok(all.includes('"prompt\\":\\"hi\\"') || all.includes('\\"prompt\\":\\"hi\\"'))
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})
