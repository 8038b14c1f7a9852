import type { Readable } from 'node:stream'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { FastifyInstance, HTTPMethods } from 'fastify'
import { type BuildAppOptions, buildApp } from '../../src/app.js'
import { FakeOpenAI } from './fake-openai.js'
import { TEST_API_KEY } from './router.js'

/** What `build` registers its cleanup with: a test's context `t`. */
interface Teardown {
  after: (fn: () => Promise<void>) => void
}

export type InProcessOptions = Omit<BuildAppOptions, 'env'>

/**
 * The app as tests use it in process (fastify/demo's `build(t)`), for tests where the wire is not
 * the subject (a tool's arguments and results, routing, limits): built from an object, asked
 * through `app.inject()` (Fastify's whole request path, hooks and schemas, without a socket), and
 * closed when `t` ends. Tests about the wire itself (connections, signals, processes) keep `startRouter`.
 */
export async function build (
  t: Teardown,
  env: Record<string, string> = {},
  options: InProcessOptions = {}
): Promise<FastifyInstance> {
  const app = await buildTestApp(env, options)
  t.after(() => app.close())
  return app
}

/** The app with the tests' defaults (the test key, no retries, silent logs); the caller closes it. */
export async function buildTestApp (
  env: Record<string, string>,
  options: InProcessOptions = {}
): Promise<FastifyInstance> {
  return buildApp({ env: { OPENAI_API_KEY: TEST_API_KEY, UPSTREAM_MAX_RETRIES: '0', LOG_LEVEL: 'silent', ...env }, ...options })
}

// Statuses whose web Response must have no body.
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304])

/**
 * `fetch` answered by `app.inject()`: the SDK client's requests reach the router's routes without
 * a socket, and its SSE answers stream as the router writes them (`payloadAsStream`), so progress
 * arrives before the result as it does over HTTP.
 */
export function injectFetch (app: FastifyInstance): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined
    const injected = await app.inject({
      method: request.method as HTTPMethods,
      url: `${url.pathname}${url.search}`,
      headers: Object.fromEntries(request.headers),
      ...(body && { payload: body }),
      payloadAsStream: true,
      ...(init?.signal && { signal: init.signal }),
    })
    const headers = new Headers()
    for (const [name, value] of Object.entries(injected.headers)) {
      if (value === undefined) continue
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item))
    }
    const stream = injected.stream()
    if (NULL_BODY_STATUSES.has(injected.statusCode)) {
      stream.resume()
      return new Response(null, { status: injected.statusCode, headers })
    }
    return new Response(webBody(stream), { status: injected.statusCode, headers })
  }
}

/**
 * The injected answer's body as a web stream, chunk by chunk as the router writes it. Not
 * `Readable.toWeb`: a client that cancels a body (the SDK does, for a 202) would have the router's
 * last write land on a closed controller.
 */
function webBody (stream: Readable): ReadableStream<Uint8Array> {
  let open = true
  return new ReadableStream({
    start (controller) {
      stream.on('data', (chunk: Buffer) => { if (open) controller.enqueue(new Uint8Array(chunk)) })
      stream.once('end', () => {
        if (open) controller.close()
        open = false
      })
      stream.once('error', (err) => {
        if (open) controller.error(err)
        open = false
      })
    },
    cancel () {
      open = false
      stream.destroy()
    },
  })
}

/** The official SDK client over Streamable HTTP, its requests answered in process; connected (initialized). */
export async function connectInProcess (app: FastifyInstance, requestInit?: RequestInit): Promise<Client> {
  const client = new Client({ name: 'router-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL('http://localhost/mcp'), { fetch: injectFetch(app), ...(requestInit && { requestInit }) }))
  return client
}

/**
 * A fake upstream, the app in front of it and a client connected in process: `startStack` without
 * the router's socket.
 */
export interface InProcessStack {
  upstream: FakeOpenAI
  app: FastifyInstance
  client: Client
  close: () => Promise<void>
}

export async function startInProcessStack (
  env: Record<string, string> = {},
  options: InProcessOptions = {}
): Promise<InProcessStack> {
  const upstream = await FakeOpenAI.start()
  const app = await buildTestApp({ OPENAI_BASE_URL: upstream.baseURL, ...env }, options)
  const client = await connectInProcess(app)
  return {
    upstream,
    app,
    client,
    async close () {
      await client.close()
      await app.close()
      await upstream.close()
    },
  }
}
