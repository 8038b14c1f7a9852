import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { FakeOpenAI } from '../support/fake-openai.js'
import { sha256, TEAM_A_KEY } from '../support/client-keys.js'
import { initializeMessage, postMcp, type RunningRouter, startRouter } from '../support/router.js'

const APP_ORIGIN = 'https://app.example.com'

/** What a browser sends before a cross-origin POST carrying a key and the MCP headers. */
function preflight (router: RunningRouter, origin: string, path = '/mcp'): Promise<Response> {
  return fetch(new URL(path, router.url), {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
    },
  })
}

function corsHeaders (response: Response): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith('access-control-'))
}

const listOf = (header: string | null) => (header ?? '').split(',').map((item) => item.trim().toLowerCase())

describe('CORS on /mcp with an Origin allow-list', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, {
      ALLOWED_ORIGINS: `${APP_ORIGIN}, https://other.example.com`,
      MCP_SESSIONS: 'stateful',
      CLIENT_KEYS: `web:${sha256(TEAM_A_KEY)}`,
    })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('a preflight from a listed origin is answered 204 with the methods and headers MCP needs, without a key', async () => {
    const response = await preflight(router, APP_ORIGIN)
    assert.equal(response.status, 204)
    assert.equal(response.headers.get('access-control-allow-origin'), APP_ORIGIN)
    assert.deepEqual(listOf(response.headers.get('access-control-allow-methods')), ['get', 'post', 'delete'])
    const allowedHeaders = listOf(response.headers.get('access-control-allow-headers'))
    for (const header of ['authorization', 'content-type', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'accept']) {
      assert.ok(allowedHeaders.includes(header), `allows ${header}`)
    }
    assert.ok(listOf(response.headers.get('vary')).includes('origin'), 'caches keep answers for different origins apart')
  })

  test('a preflight from an origin outside the list gets no CORS header', async () => {
    const response = await preflight(router, 'https://evil.example.com')
    assert.notEqual(response.status, 204)
    assert.deepEqual(corsHeaders(response), [])
  })

  test('paths other than /mcp get no CORS header, even for a listed origin', async () => {
    const response = await preflight(router, APP_ORIGIN, '/health')
    assert.deepEqual(corsHeaders(response), [])
    const health = await fetch(new URL('/health', router.url), { headers: { origin: APP_ORIGIN } })
    assert.equal(health.status, 200)
    assert.deepEqual(corsHeaders(health), [])
  })

  test('a POST from a listed origin is shared with it and exposes the session id', async () => {
    const response = await postMcp(router, initializeMessage, { origin: APP_ORIGIN, authorization: `Bearer ${TEAM_A_KEY}` })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), APP_ORIGIN)
    assert.ok(response.headers.get('mcp-session-id'), 'stateful mode hands out a session id')
    const exposed = listOf(response.headers.get('access-control-expose-headers'))
    assert.ok(exposed.includes('mcp-session-id'), 'the browser lets the page read Mcp-Session-Id')
    assert.ok(exposed.includes('mcp-protocol-version'))
    await response.body?.cancel()
  })

  test('a refusal for a missing key is shared too, so the page can read why', async () => {
    const response = await postMcp(router, initializeMessage, { origin: APP_ORIGIN })
    assert.equal(response.status, 401)
    assert.equal(response.headers.get('access-control-allow-origin'), APP_ORIGIN)
    assert.ok(listOf(response.headers.get('access-control-expose-headers')).includes('www-authenticate'), 'the page can read the challenge')
  })

  test('a POST from an origin outside the list is refused without CORS headers', async () => {
    const response = await postMcp(router, initializeMessage, { origin: 'https://evil.example.com', authorization: `Bearer ${TEAM_A_KEY}` })
    assert.equal(response.status, 403)
    assert.deepEqual(corsHeaders(response), [])
  })
})

describe('CORS on /mcp without an allow-list', () => {
  test('follows the Origin check: loopback origins only', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream)
    try {
      const loopback = await preflight(router, 'http://localhost:6274')
      assert.equal(loopback.status, 204)
      assert.equal(loopback.headers.get('access-control-allow-origin'), 'http://localhost:6274')
      assert.deepEqual(corsHeaders(await preflight(router, APP_ORIGIN)), [])
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})
