import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, test } from 'node:test'
import { LOG_LEVEL_META_KEY, Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { bearer, METRICS_TOKEN_ENV, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { errorMeta, textOf } from '../support/results.js'
import { MCP_HEADERS, postMcp, type RunningRouter, startRouter, TEST_API_KEY } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

interface CallOptions {
  onprogress?: (progress: { message?: string | undefined }) => void
  signal?: AbortSignal
}

/** What the scenarios need of a client, whichever SDK line and protocol era it speaks. */
interface EraClient {
  protocolVersion: string | undefined
  listTools: () => Promise<{ tools: Array<{ name: string }> }>
  callTool: (
    params: { name: string, arguments: Record<string, unknown> },
    options?: CallOptions
  ) => Promise<Record<string, unknown>>
  close: () => Promise<void>
}

const MODERN = '2026-07-28'
const LEGACY = '2025-11-25'

const clients = {
  /** The SDK's v2 client, pinned to the 2026-07-28 revision: it fails loudly rather than fall back. */
  'v2 client pinned to 2026-07-28': async (url: URL, requestInit: RequestInit): Promise<EraClient> => {
    const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } })
    await client.connect(new ModernTransport(url, { requestInit }))
    return modern(client)
  },
  /** The SDK's v2 client negotiating: it probes with server/discover and takes what the server offers. */
  'v2 client in auto mode': async (url: URL, requestInit: RequestInit): Promise<EraClient> => {
    const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(new ModernTransport(url, { requestInit }))
    return modern(client)
  },
  /** The SDK's v1 client (`@modelcontextprotocol/sdk`): the 2025 era, initialize first. */
  'v1 client (2025)': async (url: URL, requestInit: RequestInit): Promise<EraClient> => {
    const client = new LegacyClient({ name: 'era-test', version: '1.0.0' })
    const transport = new LegacyTransport(url, { requestInit })
    await client.connect(transport)
    return {
      protocolVersion: transport.protocolVersion,
      listTools: async () => client.listTools(),
      callTool: async (params, options) => client.callTool(params, undefined, options),
      close: async () => {
        if (transport.sessionId) await transport.terminateSession()
        await client.close()
      },
    }
  },
}

function modern (client: ModernClient): EraClient {
  return {
    protocolVersion: client.getNegotiatedProtocolVersion(),
    listTools: async () => client.listTools(),
    callTool: async (params, options) => client.callTool(params, options) as Promise<Record<string, unknown>>,
    close: async () => client.close(),
  }
}

const expectedEra: Record<keyof typeof clients, string> = {
  'v2 client pinned to 2026-07-28': MODERN,
  'v2 client in auto mode': MODERN,
  'v1 client (2025)': LEGACY,
}

const jsonSchemaFormat = {
  type: 'json_schema',
  name: 'weather',
  schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
}

for (const mode of ['stateless', 'stateful'] as const) {
  // Client keys on in stateless mode, the router open in stateful mode: both admissions in front of both eras.
  const keys = mode === 'stateless'
  type ClientName = keyof typeof clients
  for (const [name, connect] of Object.entries(clients) as Array<[ClientName, typeof clients[ClientName]]>) {
    describe(`${name} (MCP_SESSIONS=${mode}${keys ? ', client keys' : ''})`, () => {
      let upstream: FakeOpenAI
      let router: RunningRouter
      let client: EraClient
      const logs = new LogCapture()
      let startUpLines = 0
      before(async () => {
        upstream = await FakeOpenAI.start()
        router = await startRouter(upstream, {
          MCP_SESSIONS: mode,
          POLL_INTERVAL_MS: '20',
          // A background chat answers at once with its status; get_response waits for it.
          POLL_MAX_MS: '0',
          PROGRESS_INTERVAL_MS: '0',
          LOG_LEVEL: 'info',
          ...(keys && { CLIENT_KEYS_FILE: await writeClientsFile(), ...METRICS_TOKEN_ENV }),
        }, { logs })
        startUpLines = logs.raw.length
        client = await connect(router.mcpUrl, keys ? bearer(TEAM_B_KEY) : {})
      })
      after(async () => {
        await client.close()
        await router.close()
        await upstream.close()
      })
      beforeEach(() => upstream.reset())

      test(`speaks ${expectedEra[name]}, connecting without a warning`, () => {
        assert.equal(client.protocolVersion, expectedEra[name])
        assert.deepEqual(logs.lines.slice(startUpLines).filter((line) => line.level >= 40), [])
      })

      test('tools/list and echo', async () => {
        const { tools } = await client.listTools()
        assert.ok(['chat', 'echo', 'get_response'].every((tool) => tools.some((listed) => listed.name === tool)))
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello' } })), 'hello')
        const line = logs.find({ rpcMethod: 'tools/call', tool: 'echo' }).at(-1)
        assert.equal(line?.outcome, 'ok', 'the message log has the call, in either era')
      })

      test('chat streams its answer as progress, the router\'s key redacted', async () => {
        upstream.chunkSize = 3
        try {
          upstream.script('POST /v1/responses', (request) => ({ json: upstream.responseBody('gpt-4.1-mini', `You sent ${String(request.headers.authorization)}, thanks`) }))
          const pieces: string[] = []
          const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } }, { onprogress: (update) => { if (update.message) pieces.push(update.message) } })
          assert.ok(pieces.length > 3, `several progress messages (${pieces.length})`)
          assert.equal(pieces.join(''), 'You sent Bearer [redacted], thanks')
          assert.equal(textOf(result), 'You sent Bearer [redacted], thanks')
          assert.ok(!JSON.stringify(result).includes(TEST_API_KEY.slice(0, 10)))
        } finally {
          upstream.chunkSize = 4
        }
      })

      test('cancelling a call stops it and its upstream request', async () => {
        upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'a long answer that streams slowly'), eventDelayMs: 100 })
        const controller = new AbortController()
        const pieces: string[] = []
        const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } }, { signal: controller.signal, onprogress: (update) => { if (update.message) pieces.push(update.message) } })
        await waitFor(() => pieces.length > 0, 'the first streamed text')
        controller.abort('user changed their mind')
        await assert.rejects(call)
        await waitFor(() => upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream connection to close')
        await waitFor(() => router.app.inFlightCalls.size === 0, 'the call to end')
      })

      test('a background response, fetched later with get_response', async () => {
        upstream.backgroundPolls = 1
        const started = await client.callTool({ name: 'chat', arguments: { prompt: 'later', background: true } })
        const { responseId, status } = started.structuredContent as { responseId: string, status: string }
        assert.equal(status, 'queued')
        const running = await client.callTool({ name: 'get_response', arguments: { response_id: responseId } })
        assert.equal((running.structuredContent as { status: string }).status, 'in_progress')
        const done = await client.callTool({ name: 'get_response', arguments: { response_id: responseId } })
        assert.equal((done.structuredContent as { status: string }).status, 'completed')
        assert.equal(textOf(done), 'echo: later')
      })

      test('structured output with response_format', async () => {
        upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', '{"city":"Paris"}') })
        const result = await client.callTool({ name: 'chat', arguments: { prompt: 'JSON please', response_format: jsonSchemaFormat } })
        assert.equal(result.isError, undefined)
        assert.deepEqual((result.structuredContent as { json: unknown }).json, { city: 'Paris' })
      })

      test('a tool error is an isError result with _meta.error', async () => {
        const result = await client.callTool({ name: 'echo', arguments: { text: 42 } })
        assert.equal(result.isError, true)
        assert.equal(errorMeta(result).code, 'invalid_arguments')
        assert.match(textOf(result), /Invalid arguments for echo/)
      })
    })
  }
}

describe('the 2026-07-28 era over raw HTTP', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream)
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  const envelope = (protocolVersion = MODERN) => ({
    'io.modelcontextprotocol/protocolVersion': protocolVersion,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-http', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  })
  const modernHeaders = (method: string, protocolVersion = MODERN) => ({ 'mcp-protocol-version': protocolVersion, 'mcp-method': method })

  test('server/discover names the revision the router speaks, its tools capability and instructions', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope() } }, modernHeaders('server/discover'))
    assert.equal(response.status, 200)
    const { result } = await response.json() as {
      result: { supportedVersions: string[], capabilities: { tools?: object, tasks?: object }, instructions: string }
    }
    assert.deepEqual(result.supportedVersions, [MODERN])
    assert.ok(result.capabilities.tools)
    assert.equal(result.capabilities.tasks, undefined, 'MCP tasks are retired')
    assert.match(result.instructions, /forwards requests to OpenAI models/)
  })

  test('a modern request naming a revision the router does not speak gets the spec\'s error', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: envelope('2027-01-01') } }, modernHeaders('tools/list', '2027-01-01'))
    assert.equal(response.status, 400)
    const { error } = await response.json() as {
      error: { code: number, message: string, data: { supported: string[] } }
    }
    assert.equal(error.code, -32022)
    assert.match(error.message, /Unsupported protocol version: 2027-01-01/)
    assert.deepEqual(error.data.supported, [MODERN])
  })

  test('an MCP-Protocol-Version header that disagrees with the envelope is refused', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope() } }, modernHeaders('tools/list', '2025-11-25'))
    assert.equal(response.status, 400)
    assert.equal((await response.json() as { error: { code: number } }).error.code, -32020)
  })

  test('an envelope without its Mcp-Method header is refused', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: envelope() } }, { 'mcp-protocol-version': MODERN })
    assert.equal(response.status, 400)
    assert.match((await response.json() as { error: { message: string } }).error.message, /Mcp-Method/)
  })

  test('the router\'s own checks stand in front of the modern era too', async () => {
    const forbidden = await postMcp(router, { jsonrpc: '2.0', id: 5, method: 'server/discover', params: { _meta: envelope() } }, { ...modernHeaders('server/discover'), origin: 'https://evil.example' })
    assert.equal(forbidden.status, 403)
    const tooBig = await fetch(router.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...modernHeaders('tools/call') },
      body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(5_000_000) }, _meta: envelope() } }),
    })
    assert.equal(tooBig.status, 413)
  })

  test('a 2025 client asking for an MCP task gets an ordinary result', async () => {
    const response = await postMcp(router, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'no task' }, task: { ttl: 60_000 } } })
    const { result } = await response.json() as { result: Record<string, unknown> }
    assert.equal(result.task, undefined)
    assert.equal(textOf(result), 'no task')
  })
})

describe('a routing reload tells subscribers the tools changed', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { MCP_SESSIONS: 'stateful' })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('2026-07-28: a subscriptions/listen stream gets notifications/tools/list_changed', async () => {
    const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } })
    await client.connect(new ModernTransport(router.mcpUrl))
    let heard = 0
    client.setNotificationHandler('notifications/tools/list_changed', () => { heard++ })
    const subscription = await client.listen({ toolsListChanged: true })
    try {
      assert.equal(subscription.honoredFilter.toolsListChanged, true)
      assert.equal(await router.app.modelRouter.reload('test'), true)
      await waitFor(() => heard === 1, 'the list_changed notification')
    } finally {
      await subscription.close()
      await client.close()
    }
  })

  test('2025: a session\'s GET stream gets notifications/tools/list_changed', async () => {
    const client = new LegacyClient({ name: 'era-test', version: '1.0.0' })
    const transport = new LegacyTransport(router.mcpUrl)
    let heard = 0
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { heard++ })
    await client.connect(transport)
    try {
      // The client opens its GET stream after initialize; a notification sent before it would be dropped.
      await waitFor(async () => {
        await router.app.modelRouter.reload('test')
        return heard > 0
      }, 'the list_changed notification')
    } finally {
      await transport.terminateSession()
      await client.close()
    }
  })
})

describe('log messages about a client\'s own call (the logging capability)', () => {
  let upstream: FakeOpenAI
  const overloadedOnce = () => upstream.script('POST /v1/responses', { status: 503, json: errorBody('Overloaded', 'server_error') })
  const routers: Partial<Record<'stateless' | 'stateful', RunningRouter>> = {}
  before(async () => {
    upstream = await FakeOpenAI.start()
    const env = { UPSTREAM_MAX_RETRIES: '1', UPSTREAM_RETRY_BASE_MS: '1', CLIENT_KEYS_FILE: await writeClientsFile(), ...METRICS_TOKEN_ENV }
    routers.stateless = await startRouter(upstream, env)
    routers.stateful = await startRouter(upstream, { ...env, MCP_SESSIONS: 'stateful' })
  })
  after(async () => {
    await routers.stateless?.close()
    await routers.stateful?.close()
    await upstream.close()
  })
  beforeEach(() => upstream.reset())

  test('2026-07-28: a call naming a log level hears of its retry; a call naming none hears nothing', async () => {
    const client = new ModernClient({ name: 'era-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } })
    await client.connect(new ModernTransport(routers.stateless!.mcpUrl, { requestInit: bearer(TEAM_B_KEY) }))
    const heard: Array<{ level: string, data: { message: string } }> = []
    client.setNotificationHandler('notifications/message', (notification) => { heard.push(notification.params as never) })
    try {
      overloadedOnce()
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' }, _meta: { [LOG_LEVEL_META_KEY]: 'info' } })
      assert.equal(textOf(result), 'echo: hi')
      assert.equal(heard.length, 1)
      assert.equal(heard[0]?.level, 'info')
      assert.match(heard[0]?.data.message ?? '', /failed \(upstream_unavailable\); retrying in \d+ ms/)

      overloadedOnce()
      assert.equal(textOf(await client.callTool({ name: 'chat', arguments: { prompt: 'again' } })), 'echo: again')
      assert.equal(heard.length, 1, 'no level named: no log message')
    } finally {
      await client.close()
    }
  })

  for (const mode of ['stateless', 'stateful'] as const) {
    test(`2025 (${mode}): after logging/setLevel a client hears of its own retries, at its level, and another client hears nothing`, async () => {
      const connect = async (key: string) => {
        const client = new LegacyClient({ name: 'era-test', version: '1.0.0' })
        const transport = new LegacyTransport(routers[mode]!.mcpUrl, { requestInit: bearer(key) })
        const heard: Array<{ level: string, data: { message: string } }> = []
        client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
          heard.push(notification.params as never)
        })
        await client.connect(transport)
        return { client, transport, heard }
      }
      const listening = await connect(TEAM_B_KEY)
      const other = await connect(TEAM_A_KEY)
      try {
        await listening.client.setLoggingLevel('info')
        overloadedOnce()
        assert.equal(textOf(await other.client.callTool({ name: 'chat', arguments: { prompt: 'theirs', model: 'gpt-4.1-mini' } })), 'echo: theirs')
        overloadedOnce()
        assert.equal(textOf(await listening.client.callTool({ name: 'chat', arguments: { prompt: 'mine' } })), 'echo: mine')
        assert.deepEqual(listening.heard.map(({ level }) => level), ['info'])
        assert.match(listening.heard[0]?.data.message ?? '', /retrying in \d+ ms/)
        assert.deepEqual(other.heard, [], 'never another client\'s')

        await listening.client.setLoggingLevel('warning')
        overloadedOnce()
        await listening.client.callTool({ name: 'chat', arguments: { prompt: 'quiet' } })
        assert.equal(listening.heard.length, 1, 'a retry is info, below the level chosen')
      } finally {
        for (const { client, transport } of [listening, other]) {
          if (transport.sessionId) await transport.terminateSession()
          await client.close()
        }
      }
    })
  }
})
