import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { FastifyInstance } from 'fastify'
import { type BuildAppOptions, buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/observability/logger.js'
import { FakeOpenAI } from './fake-openai.js'
import type { LogCapture } from './logs.js'

export const TEST_API_KEY = 'sk-test-router-key'

export interface RunningRouter {
  app: FastifyInstance
  url: string
  mcpUrl: URL
  close: () => Promise<void>
}

export interface RouterTestOptions {
  /** Collects the router's log lines (as production writes them: same redaction); LOG_LEVEL decides which. */
  logs?: LogCapture
  spanExporter?: BuildAppOptions['spanExporter']
  /**
   * A port chosen beforehand (`freePort`), for settings that name the router's own URL
   * (PUBLIC_URL); unset: an ephemeral one.
   */
  port?: number
  /**
   * The time circuit breakers, the response cache and the OAuth key set's cooldown go by (a
   * ManualClock's `now`, test/support/clock.ts).
   */
  clock?: BuildAppOptions['clock']
}

/** The router as tests use it: built by `buildApp`, listening on an ephemeral loopback port. */
export async function startRouter (upstream: Pick<FakeOpenAI, 'baseURL'>, env: Record<string, string> = {}, { logs, spanExporter, port = 0, clock }: RouterTestOptions = {}): Promise<RunningRouter> {
  const app = await buildApp({
    env: { OPENAI_API_KEY: TEST_API_KEY, OPENAI_BASE_URL: upstream.baseURL, UPSTREAM_MAX_RETRIES: '0', LOG_LEVEL: 'silent', ...env },
    ...(logs && { logger: { ...loggerOptions({}) as object, stream: logs.stream } }),
    ...(spanExporter && { spanExporter }),
    ...(clock && { clock }),
  })
  await app.listen({ port, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  return { app, url, mcpUrl: new URL('/mcp', url), close: () => app.close() }
}

/** The official SDK client over Streamable HTTP, connected (initialized) to the router. */
export async function connectClient (router: Pick<RunningRouter, 'mcpUrl'>, requestInit?: RequestInit): Promise<Client> {
  const client = new Client({ name: 'router-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(router.mcpUrl, requestInit && { requestInit }))
  return client
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
}

export const initializeMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-http', version: '1.0.0' } },
}

/** A raw POST to /mcp, for the cases an SDK client would never send. */
export async function postMcp (
  router: RunningRouter,
  body: string | object,
  headers: Record<string, string> = {}
): Promise<Response> {
  return fetch(router.mcpUrl, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

/** A fake upstream, the router in front of it and a connected client: the usual set-up of a tool test. */
export interface TestStack {
  upstream: FakeOpenAI
  router: RunningRouter
  client: Client
  close: () => Promise<void>
}

export async function startStack (
  env: Record<string, string> = {},
  options: RouterTestOptions = {}
): Promise<TestStack> {
  const upstream = await FakeOpenAI.start()
  const router = await startRouter(upstream, env, options)
  const client = await connectClient(router)
  return {
    upstream,
    router,
    client,
    async close () {
      await client.close()
      await router.close()
      await upstream.close()
    },
  }
}
