import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js'
import pkg from '../../package.json' with { type: 'json' }
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { connectClient, initializeMessage, MCP_HEADERS, postMcp, type RunningRouter, startRouter } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

describe('MCP endpoint (stateless)', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { MAX_BODY_BYTES: '2048', ALLOWED_HOSTS: '127.0.0.1,localhost' })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('initialize negotiates the latest protocol and names the server and its version', async () => {
    const client = await connectClient(router)
    assert.deepEqual(client.getServerVersion(), { name: 'mcp-openai-router', version: pkg.version, title: 'MCP OpenAI Router' })
    assert.ok(client.getServerCapabilities()?.tools)
    assert.match(client.getInstructions() ?? '', /chat/)
    await client.close()

    const response = await postMcp(router, initializeMessage)
    const body = await response.json() as { result: { protocolVersion: string } }
    assert.equal(body.result.protocolVersion, LATEST_PROTOCOL_VERSION)
    assert.equal(response.headers.get('mcp-session-id'), null, 'stateless mode hands out no session id')
  })

  test('an older protocol version the SDK supports is accepted as offered', async () => {
    const response = await postMcp(router, { ...initializeMessage, params: { ...initializeMessage.params, protocolVersion: '2025-03-26' } })
    const body = await response.json() as { result: { protocolVersion: string } }
    assert.equal(body.result.protocolVersion, '2025-03-26')
  })

  test('tools/list publishes every tool with input and output schemas', async () => {
    const client = await connectClient(router)
    const { tools } = await client.listTools()
    assert.deepEqual(tools.map((tool) => tool.name), ['chat', 'get_response', 'cancel_response', 'embed', 'generate_image', 'list_models', 'echo'])
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object')
      assert.equal(tool.outputSchema?.type, 'object')
      assert.ok(tool.description && tool.description.length > 40, `${tool.name} has a usable description`)
    }
    const chat = tools.find((tool) => tool.name === 'chat')
    assert.ok(chat?.inputSchema.properties?.messages)
    assert.ok(chat?.inputSchema.properties?.prompt)
    await client.close()
  })

  test('ping answers, and echo returns its text', async () => {
    const client = await connectClient(router)
    assert.deepEqual(await client.ping(), {})
    const result = await client.callTool({ name: 'echo', arguments: { text: 'pong' } })
    assert.deepEqual(result.content, [{ type: 'text', text: 'pong' }])
    assert.deepEqual(result.structuredContent, { text: 'pong' })
    await client.close()
  })

  test('the request id is taken from the client, returned, and sent upstream', async () => {
    upstream.reset()
    const client = await connectClient(router, { headers: { 'x-request-id': 'trace-42' } })
    await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
    assert.equal(upstream.received('POST /v1/responses')[0]?.headers['x-client-request-id'], 'trace-42')
    const response = await postMcp(router, initializeMessage, { 'x-request-id': 'trace-43' })
    assert.equal(response.headers.get('x-request-id'), 'trace-43')
    const generated = await postMcp(router, initializeMessage, { 'x-request-id': 'bad id with spaces' })
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/)
    await client.close()
  })

  test('a call with a progress token is answered as an SSE stream', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'sse' }, _meta: { progressToken: 'p1' } } })
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/)
    assert.match(await response.text(), /"text":"sse"/)
  })

  interface Refusal { name: string, send: () => Promise<Response>, status: number, code: number, message: RegExp }
  const refusals: Refusal[] = [
    { name: 'malformed JSON', send: () => postMcp(router, '{"jsonrpc":'), status: 400, code: -32700, message: /Parse error/ },
    { name: 'an empty body', send: () => postMcp(router, ''), status: 400, code: -32700, message: /Parse error/ },
    { name: 'a JSON array (batch)', send: () => postMcp(router, [initializeMessage]), status: 400, code: -32600, message: /batches are not supported/ },
    { name: 'JSON that is not JSON-RPC', send: () => postMcp(router, { hello: 'world' }), status: 400, code: -32600, message: /not a JSON-RPC 2.0 message/ },
    { name: 'the wrong Accept', send: () => postMcp(router, initializeMessage, { accept: 'application/json' }), status: 406, code: -32000, message: /Not Acceptable/ },
    { name: 'the wrong Content-Type', send: () => postMcp(router, 'x', { 'content-type': 'text/plain' }), status: 415, code: -32000, message: /Unsupported Media Type/ },
    { name: 'a foreign browser Origin', send: () => postMcp(router, initializeMessage, { origin: 'http://evil.example.com' }), status: 403, code: -32000, message: /Origin http:\/\/evil.example.com is not allowed/ },
    {
      name: 'a Host outside ALLOWED_HOSTS',
      send: () => rawRequest(router, 'evil.example.com'),
      status: 403,
      code: -32000,
      message: /Host evil.example.com is not allowed/,
    },
    { name: 'a body over MAX_BODY_BYTES', send: () => postMcp(router, { ...initializeMessage, padding: 'x'.repeat(4096) }), status: 413, code: -32000, message: /must not exceed 2048 bytes/ },
    { name: 'an unsupported MCP-Protocol-Version', send: () => postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-protocol-version': '1999-01-01' }), status: 400, code: -32000, message: /Unsupported protocol version/ },
    { name: 'GET in stateless mode', send: () => fetch(router.mcpUrl, { headers: { accept: 'text/event-stream' } }), status: 405, code: -32000, message: /use POST/ },
    { name: 'DELETE in stateless mode', send: () => fetch(router.mcpUrl, { method: 'DELETE' }), status: 405, code: -32000, message: /use POST/ },
  ]
  for (const refusal of refusals) {
    test(`${refusal.name} gets HTTP ${refusal.status} with JSON-RPC error ${refusal.code}`, async () => {
      const response = await refusal.send()
      assert.equal(response.status, refusal.status)
      const body = await response.json() as { jsonrpc: string, error: { code: number, message: string } }
      assert.equal(body.jsonrpc, '2.0')
      assert.equal(body.error.code, refusal.code)
      assert.match(body.error.message, refusal.message)
      assert.doesNotMatch(JSON.stringify(body), /at .*\.(ts|js):\d+/, 'no stack trace')
    })
  }

  test('a loopback browser Origin passes without an allow-list', async () => {
    const response = await postMcp(router, initializeMessage, { origin: 'http://localhost:6274' })
    assert.equal(response.status, 200)
  })

  test('an unknown method is -32601 and an unknown tool is -32602', async () => {
    const unknownMethod = await postMcp(router, { jsonrpc: '2.0', id: 7, method: 'resources/list' })
    assert.equal((await unknownMethod.json() as { error: { code: number } }).error.code, -32601)

    const client = await connectClient(router)
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), (err: Error & { code?: number }) => {
      assert.equal(err.code, -32602)
      assert.match(err.message, /^MCP error -32602: Unknown tool: no_such_tool. Available tools: chat, get_response, cancel_response, embed, generate_image, list_models, echo/)
      assert.equal(err.message.match(/MCP error/g)?.length, 1, 'the SDK client prefixes the message once; the router adds no prefix of its own')
      return true
    })
    await client.close()
  })

  test('a tools/call whose name or arguments have the wrong type is -32602 with a plain message, not an error-level line', async () => {
    const logs = new LogCapture()
    const logged = await startRouter(upstream, { LOG_LEVEL: 'info' }, { logs })
    try {
      for (const [params, message] of [
        [{ name: 42, arguments: {} }, /^Invalid params: params\.name must be the name of a tool, as a string/],
        [{ arguments: {} }, /^Invalid params: params\.name must be/],
        [{ name: 'echo', arguments: ['text'] }, /^Invalid params: params\.arguments must be an object/],
      ] as const) {
        const response = await postMcp(logged, { jsonrpc: '2.0', id: 9, method: 'tools/call', params })
        assert.equal(response.status, 200)
        const { id, error } = await response.json() as { id: number, error: { code: number, message: string } }
        assert.equal(id, 9)
        assert.equal(error.code, -32602)
        assert.match(error.message, message)
        assert.doesNotMatch(error.message, /invalid_type|\[\n/, 'no raw validation dump')
      }
      assert.deepEqual(logs.lines.filter((line) => line.level >= 50), [])
    } finally {
      await logged.close()
    }
  })

  test('notifications alone are accepted with 202', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', method: 'notifications/initialized' })
    assert.equal(response.status, 202)
  })
})

describe('MCP endpoint with an Origin allow-list', () => {
  test('only the listed origins pass', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { ALLOWED_ORIGINS: 'https://app.example.com, https://other.example.com' })
    try {
      assert.equal((await postMcp(router, initializeMessage, { origin: 'https://app.example.com' })).status, 200)
      assert.equal((await postMcp(router, initializeMessage, { origin: 'http://localhost:3000' })).status, 403)
      assert.equal((await postMcp(router, initializeMessage)).status, 200, 'server-to-server requests carry no Origin')
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

describe('a client closing its connection mid-body', () => {
  test('is logged as the client\'s doing, at info level, not as a failure of the router', async () => {
    const upstream = await FakeOpenAI.start()
    const logs = new LogCapture()
    const router = await startRouter(upstream, { LOG_LEVEL: 'info' }, { logs })
    try {
      const { port } = new URL(router.url)
      const socket = connect(Number(port), '127.0.0.1')
      await once(socket, 'connect')
      const body = JSON.stringify(initializeMessage)
      const received = once(router.app.server, 'request')
      socket.write(`POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${body.length * 2}\r\n\r\n${body}`)
      await received
      socket.destroy()
      await waitFor(() => logs.lines.some((line) => line.reqId !== undefined), 'the request\'s end to be logged')
      const serious = logs.lines.filter((line) => line.level >= 50)
      assert.deepEqual(serious.map((line) => line.msg), [], 'no error line')
      const [abandoned] = logs.lines.filter((line) => String(line.msg).startsWith('MCP request abandoned'))
      assert.equal(abandoned?.level, 30)
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

/** fetch() will not send a foreign Host header; a raw request will. */
async function rawRequest (router: RunningRouter, host: string): Promise<Response> {
  const { request } = await import('node:http')
  const body = JSON.stringify(initializeMessage)
  return new Promise((resolve, reject) => {
    const req = request(router.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, host, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: res.headers as Record<string, string> })))
    })
    req.on('error', reject)
    req.end(body)
  })
}
