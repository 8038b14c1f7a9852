import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { waitFor } from '../support/wait-for.js'
import { connectClient, initializeMessage, MCP_HEADERS, postMcp, type RunningRouter, startRouter } from '../support/router.js'

describe('MCP endpoint (stateful sessions)', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_SESSION_IDLE_MS: '1000', MCP_MAX_SESSIONS: '3' })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('initialize opens a session that later requests use; DELETE ends it', async () => {
    const transport = new StreamableHTTPClientTransport(router.mcpUrl)
    const client = new Client({ name: 'stateful', version: '1.0.0' })
    await client.connect(transport)
    const sessionId = transport.sessionId
    assert.match(sessionId ?? '', /^[0-9a-f-]{36}$/)
    assert.equal(router.app.mcpSessions.size, 1)

    const result = await client.callTool({ name: 'chat', arguments: { prompt: 'in a session' } })
    assert.deepEqual(result.content, [{ type: 'text', text: 'echo: in a session' }])

    await transport.terminateSession()
    assert.equal(router.app.mcpSessions.size, 0)
    const after = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': sessionId! })
    assert.equal(after.status, 404)
    assert.equal((await after.json() as { error: { code: number } }).error.code, -32001)
    await client.close()
  })

  test('an unknown session is 404 and a missing session id is 400', async () => {
    const unknown = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': 'no-such-session' })
    assert.equal(unknown.status, 404)
    const missing = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' })
    assert.equal(missing.status, 400)
    assert.match((await missing.json() as { error: { message: string } }).error.message, /Mcp-Session-Id header is required/)
    const get = await fetch(router.mcpUrl, { headers: { accept: 'text/event-stream' } })
    assert.equal(get.status, 400)
  })

  test('the GET stream opens for a session', async () => {
    const init = await postMcp(router, initializeMessage)
    const sessionId = init.headers.get('mcp-session-id')!
    await init.text()
    const controller = new AbortController()
    const stream = await fetch(router.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId }, signal: controller.signal })
    assert.equal(stream.status, 200)
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/)
    controller.abort()
    await fetch(router.mcpUrl, { method: 'DELETE', headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId } })
  })

  test('idle sessions are closed and requests to them get 404', async () => {
    const init = await postMcp(router, initializeMessage)
    const sessionId = init.headers.get('mcp-session-id')!
    await init.text()
    assert.ok(router.app.mcpSessions.get(sessionId))
    await sleep(20)
    assert.equal(router.app.mcpSessions.closeIdle(Date.now() + 1000), 1)
    await waitFor(() => router.app.mcpSessions.get(sessionId) === undefined, 'the idle session to close')
    const ping = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': sessionId })
    assert.equal(ping.status, 404)
  })

  test('past MCP_MAX_SESSIONS a new session is refused with 503 and Retry-After', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => connectClient(router)))
    const refused = await postMcp(router, initializeMessage)
    assert.equal(refused.status, 503)
    assert.ok(refused.headers.get('retry-after'))
    assert.match((await refused.json() as { error: { message: string } }).error.message, /MCP_MAX_SESSIONS/)
    await Promise.all(clients.map(async (client) => {
      await (client.transport as StreamableHTTPClientTransport).terminateSession()
      await client.close()
    }))
    assert.equal(router.app.mcpSessions.size, 0)
  })

  test('notifications/cancelled from the client aborts the upstream request', async () => {
    upstream.reset()
    upstream.script('POST /v1/responses', { delayMs: 3000, json: upstream.responseBody('gpt-4.1-mini', 'too late') })
    const client = await connectClient(router)
    const controller = new AbortController()
    const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } }, undefined, { signal: controller.signal })
    await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream request')
    controller.abort('user changed their mind')
    await assert.rejects(call)
    await waitFor(() => upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream connection to close')
    await (client.transport as StreamableHTTPClientTransport).terminateSession()
    await client.close()
  })
})

/** An initialize POSTed from another loopback address than the tests' own (127.0.0.1). */
async function initializeFrom (
  router: RunningRouter,
  localAddress: string
): Promise<{ status: number, sessionId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(router.mcpUrl, { method: 'POST', headers: MCP_HEADERS, localAddress, agent: false }, (response) => {
      response.resume()
      const sessionId = response.headers['mcp-session-id']
      resolve({ status: response.statusCode ?? 0, sessionId: typeof sessionId === 'string' ? sessionId : undefined })
    })
    request.once('error', reject)
    request.end(JSON.stringify(initializeMessage))
  })
}

async function deleteSession (
  router: RunningRouter,
  sessionId: string,
  headers: Record<string, string> = {}
): Promise<void> {
  const response = await fetch(router.mcpUrl, { method: 'DELETE', headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId } })
  assert.equal(response.status, 200)
}

describe('MCP sessions per client', () => {
  let upstream: FakeOpenAI

  before(async () => { upstream = await FakeOpenAI.start() })
  after(async () => { await upstream.close() })

  test('past MCP_MAX_SESSIONS_PER_CLIENT one address is refused with 429 naming the limit; other addresses are not', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_MAX_SESSIONS_PER_CLIENT: '2' })
    try {
      const opened = [await postMcp(router, initializeMessage), await postMcp(router, initializeMessage)]
      assert.deepEqual(opened.map((response) => response.status), [200, 200])
      const refused = await postMcp(router, initializeMessage)
      assert.equal(refused.status, 429)
      assert.match((await refused.json() as { error: { message: string } }).error.message, /^Too Many Requests: address 127\.0\.0\.1 already has 2 open sessions \(MCP_MAX_SESSIONS_PER_CLIENT\)/)
      assert.equal((await initializeFrom(router, '127.0.0.2')).status, 200, 'another address opens its own')
      // Ending a session makes room for another.
      await deleteSession(router, opened[0]!.headers.get('mcp-session-id')!)
      assert.equal((await postMcp(router, initializeMessage)).status, 200)
    } finally {
      await router.close()
    }
  })

  test('with client keys the limit is per client key', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_MAX_SESSIONS_PER_CLIENT: '1', CLIENT_KEYS_FILE: await writeClientsFile() })
    try {
      const teamA = { authorization: `Bearer ${TEAM_A_KEY}` }
      assert.equal((await postMcp(router, initializeMessage, teamA)).status, 200)
      const refused = await postMcp(router, initializeMessage, teamA)
      assert.equal(refused.status, 429)
      assert.match((await refused.json() as { error: { message: string } }).error.message, /client "team-a" already has 1 open sessions/)
      assert.equal((await postMcp(router, initializeMessage, { authorization: `Bearer ${TEAM_B_KEY}` })).status, 200)
    } finally {
      await router.close()
    }
  })

  test('an open GET stream alone does not keep a session past MCP_SESSION_IDLE_MS', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_SESSION_IDLE_MS: '1000' })
    try {
      const init = await postMcp(router, initializeMessage)
      const sessionId = init.headers.get('mcp-session-id')!
      await init.text()
      const stream = await fetch(router.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId }, signal: AbortSignal.timeout(20_000) })
      assert.equal(stream.status, 200)
      // The session's closing ends its stream.
      await stream.text()
      assert.equal(router.app.mcpSessions.get(sessionId), undefined)
      const ping = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': sessionId })
      assert.equal(ping.status, 404)
    } finally {
      await router.close()
    }
  })

  test('a session is not closed while a call runs, even past the idle time', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_SESSION_IDLE_MS: '1000' })
    const client = await connectClient(router)
    try {
      upstream.script('POST /v1/responses', { delayMs: 300, json: upstream.responseBody('gpt-4.1-mini', 'slow but there') })
      const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } })
      await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream request')
      assert.equal(router.app.mcpSessions.closeIdle(Date.now() + 5000), 0)
      assert.deepEqual((await call).content, [{ type: 'text', text: 'slow but there' }])
    } finally {
      await client.close()
      await router.close()
    }
  })
})
