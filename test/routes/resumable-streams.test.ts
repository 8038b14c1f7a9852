import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { bearer, METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { RedisServer, skipWithoutRedis } from '../support/redis.js'
import { initializeMessage, postMcp, type RunningRouter, startRouter } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

const SLOW_ANSWER = 'a long answer that streams slowly, piece by piece, so the client loses it halfway'

/**
 * The client's network: requests go to whichever router `target` names (as a balancer without
 * affinity would send them), and the first tools/call stream breaks after its first progress
 * notification, as a dropped connection does.
 */
class FlakyNetwork {
  broken = false
  readonly requests: Array<{ method: string, router: string, lastEventId: string | null }> = []

  constructor (public target: RunningRouter) {}

  readonly fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const requested = new URL(url instanceof Request ? url.url : url)
    const headers = new Headers(init?.headers)
    this.requests.push({ method: init?.method ?? 'GET', router: this.target.url, lastEventId: headers.get('last-event-id') })
    const response = await fetch(new URL(requested.pathname, this.target.url), init)
    if (this.broken || init?.method !== 'POST' || !String(init.body).includes('"tools/call"') || !response.body) return response
    this.broken = true
    return new Response(breakAfterProgress(response.body), { status: response.status, headers: response.headers })
  }
}

/** The body up to and including the first progress notification, then a network error. */
function breakAfterProgress (body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let seen = ''
  return new ReadableStream({
    async pull (controller) {
      const { done, value } = await reader.read()
      if (done) return controller.close()
      controller.enqueue(value)
      seen += decoder.decode(value, { stream: true })
      if (!seen.includes('notifications/progress')) return
      await reader.cancel()
      controller.error(new TypeError('network connection lost'))
    },
  })
}

async function connectThrough (network: FlakyNetwork, key?: string): Promise<Client> {
  const client = new Client({ name: 'resuming-client', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', network.target.url), {
    fetch: network.fetch,
    ...(key && { requestInit: bearer(key) }),
    reconnectionOptions: {
      initialReconnectionDelay: 20,
      maxReconnectionDelay: 200,
      reconnectionDelayGrowFactor: 1.5,
      maxRetries: 3,
    },
  }))
  return client
}

/** A streamed chat whose connection breaks midway; the progress the client saw, and its result. */
async function chatThroughBreak (client: Client, network: FlakyNetwork, { onBreak = () => {}, timeout = 10_000 } = {}) {
  const progress: string[] = []
  const result = await client.callTool({ name: 'chat', arguments: { prompt: 'go' } }, undefined, {
    onprogress: ({ message }) => {
      if (message) progress.push(message)
      if (network.broken) onBreak()
    },
    timeout,
  })
  return { result, progress }
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ text: string }>)[0]?.text

/** Event ids no router gave, or no longer holds: a stream id and position of the wrong shape, or of no stream. */
const UNRESUMABLE_EVENT_IDS = ['_GET_stream.m999999', '../x.m1', 'x.1-1', 'no-dot', 'x.', `${'a'.repeat(10_000)}.m1`]

/**
 * A GET stream resumed from each of {@link UNRESUMABLE_EVENT_IDS} in a new session of `router`:
 * the status and JSON-RPC error message of each answer.
 */
async function resumeFromUnknownEvents (
  router: RunningRouter,
  headers: Record<string, string> = {}
): Promise<Array<{ eventId: string, status: number, message: string | undefined }>> {
  const opened = await postMcp(router, initializeMessage, headers)
  await opened.body?.cancel()
  const session = { ...headers, 'mcp-session-id': opened.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' }
  await (await postMcp(router, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).body?.cancel()
  return Promise.all(UNRESUMABLE_EVENT_IDS.map(async (eventId) => {
    const response = await fetch(router.mcpUrl, { headers: { ...session, accept: 'text/event-stream', 'last-event-id': eventId }, signal: AbortSignal.timeout(10_000) })
    const text = await response.text()
    const body = response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) as { error?: { message?: string } } : undefined
    return { eventId, status: response.status, message: body?.error?.message }
  }))
}

function assertRefusedAsTheClients (answers: Awaited<ReturnType<typeof resumeFromUnknownEvents>>) {
  for (const { eventId, status, message } of answers) {
    assert.equal(status, 400, `Last-Event-ID ${eventId.slice(0, 40)}`)
    assert.match(message ?? '', /^Bad Request: Last-Event-ID .* (is not an event id this router gave|names no stream this session still holds).*; open the stream again without Last-Event-ID/)
    assert.ok((message ?? '').length < 400, 'the id is quoted bounded')
  }
}

describe('resumable streams (MCP_EVENT_STORE)', () => {
  let upstream: FakeOpenAI

  before(async () => { upstream = await FakeOpenAI.start() })
  after(async () => { await upstream.close() })

  const slowAnswer = () => upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', SLOW_ANSWER), eventDelayMs: 30 })

  test('memory: a client whose stream broke resumes it on the same replica with Last-Event-ID; the call runs once, to its end', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_EVENT_STORE: 'memory', PROGRESS_INTERVAL_MS: '0' })
    const network = new FlakyNetwork(router)
    const client = await connectThrough(network)
    try {
      upstream.reset()
      slowAnswer()
      const { result, progress } = await chatThroughBreak(client, network)
      assert.equal(result.isError, undefined)
      assert.equal(textOf(result), SLOW_ANSWER)
      assert.ok(progress.length > 1, 'progress went on after the break')
      const resume = network.requests.find((request) => request.lastEventId !== null)
      assert.equal(resume?.method, 'GET')
      assert.equal(upstream.received('POST /v1/responses').length, 1, 'the call was neither cancelled nor started again')
    } finally {
      await client.close()
      await router.close()
    }
  })

  test('memory: a Last-Event-ID this session never had is the client\'s error (400, saying what to do), not the router\'s', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', MCP_EVENT_STORE: 'memory' })
    try {
      assertRefusedAsTheClients(await resumeFromUnknownEvents(router))
    } finally {
      await router.close()
    }
  })

  test('without an event store a broken stream still stops its call (nothing could resume it)', async () => {
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful', PROGRESS_INTERVAL_MS: '0' })
    const network = new FlakyNetwork(router)
    const client = await connectThrough(network)
    try {
      upstream.reset()
      slowAnswer()
      await assert.rejects(chatThroughBreak(client, network, { timeout: 500 }), /timed out/)
      assert.equal(network.requests.some((request) => request.lastEventId !== null), false, 'no event id to resume from')
      await waitFor(() => upstream.received('POST /v1/responses')[0]?.closedEarly === true, 'the upstream call to be stopped')
    } finally {
      await client.close()
      await router.close()
    }
  })

  describe('redis: any replica', { skip: skipWithoutRedis }, () => {
    let redis: RedisServer
    let routers: RunningRouter[]
    let env: Record<string, string>

    before(async () => {
      redis = await RedisServer.start()
      env = {
        MCP_SESSIONS: 'stateful',
        MCP_EVENT_STORE: 'redis',
        ...redis.routerEnv,
        PROGRESS_INTERVAL_MS: '0',
        CLIENT_KEYS_FILE: await writeClientsFile(),
        ...METRICS_TOKEN_ENV,
      }
      routers = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    })
    after(async () => {
      await Promise.all(routers.map((router) => router.close()))
      await redis.stop()
    })

    test('a stream broken on one replica resumes on another, which follows it to the answer the first one finishes', async () => {
      const [first, second] = routers as [RunningRouter, RunningRouter]
      const network = new FlakyNetwork(first)
      const client = await connectThrough(network, TEAM_A_KEY)
      try {
        upstream.reset()
        slowAnswer()
        const { result, progress } = await chatThroughBreak(client, network, {
          onBreak: () => { network.target = second },
        })
        assert.equal(result.isError, undefined)
        assert.equal(textOf(result), SLOW_ANSWER)
        assert.ok(progress.length > 1, 'progress went on after the break')
        const resume = network.requests.find((request) => request.lastEventId !== null)
        assert.deepEqual([resume?.method, resume?.router], ['GET', second.url])
        assert.equal(upstream.received('POST /v1/responses').length, 1, 'the first replica finished the call; the second only relayed it')
        assert.equal(second.app.mcpSessions.size, 1, 'the second replica took the session over')
        const metrics = parseExposition(await (await fetch(`${second.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
        assert.equal(sampleValue(metrics, 'mcp_router_mcp_sessions_taken_over_total'), 1)

        // The session goes on at the second replica: new calls, and the end of the session, work there.
        const echoed = await client.callTool({ name: 'echo', arguments: { text: 'still here' } })
        assert.equal(textOf(echoed), 'still here')
        await (client.transport as StreamableHTTPClientTransport).terminateSession()
        assert.equal(second.app.mcpSessions.size, 0, 'the client ended the session where it now lives')
      } finally {
        await client.close()
      }
    })

    test('a Last-Event-ID of no stream in Redis is the client\'s error (400), not a Redis failure', async () => {
      assertRefusedAsTheClients(await resumeFromUnknownEvents(routers[0] as RunningRouter, bearer(TEAM_A_KEY).headers))
    })

    test('a session id from another replica is no use to another client, nor after the session was deleted', async () => {
      const [first, second] = routers as [RunningRouter, RunningRouter]
      const network = new FlakyNetwork(first)
      const client = await connectThrough(network, TEAM_A_KEY)
      const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId as string
      const ask = async (router: RunningRouter, key: string, id = sessionId) => {
        const response = await postMcp(router, { jsonrpc: '2.0', id: 7, method: 'tools/list' }, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${key}` })
        await response.body?.cancel()
        return response.status
      }
      const taken = second.app.mcpSessions.size
      assert.equal(await ask(second, TEAM_B_KEY), 404, 'another client cannot take the session over')
      assert.equal(second.app.mcpSessions.size, taken)
      assert.equal(await ask(second, TEAM_A_KEY), 200, 'its own client can')
      assert.equal(second.app.mcpSessions.size, taken + 1)
      await (client.transport as StreamableHTTPClientTransport).terminateSession()
      await client.close()
      assert.equal(await ask(first, TEAM_A_KEY), 404, 'ended by its DELETE, it cannot be taken back')

      // A replica with no room left cannot take a session over: 503 to retry (elsewhere), not a 404 that ends it.
      const full = await startRouter(upstream, { ...env, MCP_MAX_SESSIONS: '1' })
      const filler = await connectThrough(new FlakyNetwork(full), TEAM_B_KEY)
      const moving = await connectThrough(new FlakyNetwork(first), TEAM_A_KEY)
      try {
        assert.equal(await ask(full, TEAM_A_KEY, (moving.transport as StreamableHTTPClientTransport).sessionId), 503)
        assert.equal(await ask(full, TEAM_A_KEY, 'no-such-session'), 404)
      } finally {
        await Promise.all([filler.close(), moving.close()])
        await full.close()
      }
    })
  })
})
