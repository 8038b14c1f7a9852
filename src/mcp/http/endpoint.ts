import { isLegacyRequest, type McpHttpHandler, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import { authInfoCarrying, type HttpRequestContext } from '../request-context.js'
import type { ToolRuntime } from '../tool-runtime.js'
import { handleHttpRequest, progressAnswer, sendResponse, watchTransport } from '../transport-adapter.js'
import type { McpRequest } from './admission.js'
import type { ClassifiedMessage, ClassifiedNotification } from './classified-message.js'
import { type JsonRpcErrorResponse, JsonRpcErrorCode, jsonRpcError } from './json-rpc.js'
import { isPlainlyLegacy, modernEraHandler } from './modern-era.js'
import { type McpSessions, type McpSession, SESSIONS_FULL } from './sessions.js'
import { callerFingerprint, StatelessCalls } from './stateless-calls.js'

const SESSION_HEADER = 'mcp-session-id'

/** A POST's connection: its signal, and, stateless, the client's fingerprint, hashed once. */
interface Connection {
  signal: AbortSignal
  fingerprint?: string
}

export interface McpEndpointOptions {
  runtime: ToolRuntime
  sessions: McpSessions
  /** MCP_SESSIONS=stateful: 2025-era clients open sessions; otherwise every exchange is one POST. */
  stateful: boolean
  log: FastifyBaseLogger
}

/**
 * The MCP Streamable HTTP endpoint behind the route, built once: which path a request takes (the
 * 2026-07-28 era's handler; a 2025-era stateless exchange; a session's), and the relay along it.
 * Each request arrives admitted and, a POST, with its message classified (`request.mcpMessage`).
 */
export class McpEndpoint {
  readonly #runtime: ToolRuntime
  readonly #sessions: McpSessions
  readonly #stateful: boolean
  /** Stateless calls running here, which a `notifications/cancelled` in a POST of its own can stop. */
  readonly #calls = new StatelessCalls()
  readonly #modern: McpHttpHandler

  constructor ({ runtime, sessions, stateful, log }: McpEndpointOptions) {
    this.#runtime = runtime
    this.#sessions = sessions
    this.#stateful = stateful
    this.#modern = modernEraHandler(runtime, log)
  }

  /** Subscribers (2026-07-28 subscriptions/listen, 2025 sessions' GET streams) hear of this replica's reloads. */
  toolsChanged (): void {
    this.#modern.notify.toolsChanged()
    this.#sessions.toolsChanged()
  }

  /** Ends the open subscriptions/listen streams, which would keep the server from closing. */
  async close (): Promise<void> {
    await this.#modern.close()
  }

  /** A POST: its protocol era, then its session mode, decide the path. */
  async post (request: McpRequest, reply: FastifyReply): Promise<FastifyReply> {
    const message = classified(request)
    if (!await this.#isLegacyExchange(request, message)) return this.#relayModern(request, reply)
    if (!this.#stateful && message.kind === 'notification' && message.cancels) return this.#cancel(message.cancels, request, reply)
    if (message.kind === 'request' && message.invalidParams !== undefined) {
      // The caller's mistake, answered as JSON-RPC answers one: an error response, HTTP 200.
      request.log.info({ reason: message.invalidParams }, 'MCP request refused: invalid params')
      return reply.code(200).send(jsonRpcError(JsonRpcErrorCode.InvalidParams, `Invalid params: ${message.invalidParams}`, message.id))
    }
    const connection = this.#watchConnection(message, request, reply)
    if (!this.#stateful) return this.#relayStateless(message, request, reply, connection)
    const sessionId = request.headers[SESSION_HEADER]
    if (sessionId !== undefined) return this.#relayToSession(sessionId, request, reply, connection.signal)
    return this.#openSession(message, request, reply, connection.signal)
  }

  /** A GET (a session's stream) or DELETE (its end): sessions only. */
  async sessionRequest (request: McpRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (this.#stateful) return this.#relayToSession(request.headers[SESSION_HEADER], request, reply)
    // Stateless mode keeps no stream open and no session to end: every exchange is one POST.
    return reply.code(405).header('allow', 'POST').send(jsonRpcError(JsonRpcErrorCode.ServerError,
      'Method Not Allowed: this router runs stateless (MCP_SESSIONS=stateless); use POST'))
  }

  /** Whether an exchange is of the 2025 era: plainly so (most traffic), or as the SDK classifies the rest. */
  async #isLegacyExchange (request: McpRequest, message: ClassifiedMessage): Promise<boolean> {
    return isPlainlyLegacy(message, request.headers['mcp-protocol-version']) || isLegacyRequest(toWebRequest(request), request.body)
  }

  /**
   * The signal that stops a request's call when its client hangs up (unless streams are
   * resumable), and, stateless, the client's fingerprint, hashed once: its call is tracked under
   * it for notifications/cancelled, and its logging level may be kept under it.
   */
  #watchConnection (message: ClassifiedMessage, request: McpRequest, reply: FastifyReply): Connection {
    // With resumable streams a broken connection is not the end of the call: the client may
    // resume it (Last-Event-ID).
    const connection = this.#sessions.resumable ? new AbortController() : abortedOnHangUp(reply)
    if (this.#stateful || message.kind !== 'request') return { signal: connection.signal }
    const fingerprint = fingerprintOf(request)
    const forget = this.#calls.track(fingerprint, message.id, connection)
    reply.raw.once('close', forget)
    return { signal: connection.signal, fingerprint }
  }

  /** A stateless client's cancellation: it stops the call it names, if that call still runs here. */
  #cancel ({ requestId, reason }: NonNullable<ClassifiedNotification['cancels']>, request: McpRequest, reply: FastifyReply) {
    const why = reason ? `the client cancelled the call (${reason})` : 'the client cancelled the call'
    const cancelled = this.#calls.cancel(fingerprintOf(request), requestId, why)
    request.log.info({ cancelledRequestId: requestId, matched: cancelled }, 'cancellation received')
    return reply.code(202).send(null)
  }

  /** One stateless exchange: a server and transport of its own, for this request only. */
  async #relayStateless (message: ClassifiedMessage, request: McpRequest, reply: FastifyReply, connection: Connection) {
    const { server, messages } = this.#runtime.serverFor(request.client)
    const caller = logLevelCaller(message, request, connection.fingerprint)
    // Progress and log messages need a stream; any other answer goes as plain JSON.
    const wantsProgress = message.kind === 'request' && message.progressToken !== undefined
    const enableJsonResponse = !wantsProgress && this.#runtime.logLevels.get(caller) === undefined
    // No session id generator: the SDK's stateless mode.
    const options = { sessionIdGenerator: undefined, enableJsonResponse }
    const transport = new WebStandardStreamableHTTPServerTransport(options)
    // Only an exchange cut short has something to stop; closing a finished one would only cost
    // the SDK's "Connection closed" error, a stack trace per request (the benchmark's profile).
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) server.close().catch((err: unknown) => request.log.warn({ err }, 'MCP server did not close cleanly'))
    })
    await server.connect(transport)
    watchTransport(transport, messages)
    const context = { ...contextOf(request, connection.signal, caller), answer: progressAnswer(message, reply) }
    const response = await handleHttpRequest(transport, toWebRequest(request), context, request.body, messages)
    return sendResponse(response, reply, context.answer)
  }

  /**
   * One modern-era (2026-07-28) exchange. Its client cancels a call by closing the request's
   * connection: the web Request's signal, which the SDK watches, and the call's own connection.
   */
  async #relayModern (request: McpRequest, reply: FastifyReply) {
    const connection = abortedOnHangUp(reply)
    const answer = progressAnswer(request.mcpMessage, reply, true)
    const authInfo = authInfoCarrying({ ...contextOf(request, connection.signal), answer })
    const webRequest = toWebRequest(request, connection.signal)
    const response = await this.#modern.fetch(webRequest, { parsedBody: request.body, authInfo })
    // Refused before any MCP server saw it (the era's own checks of version, envelope and
    // headers): no message log line says so.
    if (response.status >= 400) await logRefusal(request, response)
    return sendResponse(response, reply, answer)
  }

  /** A new session, opened by its initialize request, within MCP_MAX_SESSIONS and MCP_MAX_SESSIONS_PER_CLIENT. */
  async #openSession (message: ClassifiedMessage, request: McpRequest, reply: FastifyReply, connection: AbortSignal) {
    if (message.kind !== 'request' || message.initialize === undefined) {
      return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ServerError,
        'Bad Request: Mcp-Session-Id header is required (send initialize first to open a session)'))
    }
    if (this.#sessions.full) return this.#sessionsFull(request, reply)
    const owner = sessionOwner(request)
    if (this.#sessions.atClientLimit(owner)) return this.#clientSessionsFull(request, reply)
    const newServer = () => this.#runtime.serverFor(request.client)
    const session = await this.#sessions.open(newServer, request.client?.name, owner, message.initialize)
    return this.#relay(session, request, reply, connection)
  }

  /** `connection`: a POST's, whose closing stops the calls it carried; GET and DELETE have none. */
  async #relayToSession (
    sessionId: string | undefined,
    request: McpRequest,
    reply: FastifyReply,
    connection?: AbortSignal
  ): Promise<FastifyReply> {
    if (sessionId === undefined) {
      return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required'))
    }
    const client = request.client?.name
    const newServer = () => this.#runtime.serverFor(request.client)
    const session = this.#sessions.get(sessionId) ??
      await this.#sessions.adopt(sessionId, client, sessionOwner(request), newServer)
    if (session === SESSIONS_FULL) return this.#sessionsFull(request, reply)
    // Another client's session is not this client's to use: it does not exist for it.
    if (!session || session.client !== client) {
      return reply.code(404).send(jsonRpcError(JsonRpcErrorCode.SessionNotFound,
        'Session not found: it expired or was closed; initialize a new session'))
    }
    // A GET stream is not activity: a session kept only by its stream expires (MCP_SESSION_IDLE_MS).
    if (request.method !== 'GET') reply.raw.once('close', session.begin())
    return this.#relay(session, request, reply, connection)
  }

  async #relay (session: McpSession, request: McpRequest, reply: FastifyReply, connection: AbortSignal | undefined) {
    const context = { ...contextOf(request, connection), answer: progressAnswer(request.mcpMessage, reply) }
    const response = await session.handle(toWebRequest(request), context, request.body)
    return sendResponse(response, reply, context.answer)
  }

  /** A session this replica has no room for: one it would open, or one it would take over from another replica. */
  #sessionsFull (request: McpRequest, reply: FastifyReply) {
    const { maxSessions } = this.#sessions.limits
    request.log.warn({ openSessions: this.#sessions.size }, 'MCP session refused: at MCP_MAX_SESSIONS')
    return reply.code(503).header('retry-after', '5').send(jsonRpcError(JsonRpcErrorCode.ServerError,
      `Service Unavailable: the router has ${maxSessions} open sessions (MCP_MAX_SESSIONS); close idle sessions or retry later`))
  }

  /** A client (an address, when the router is open) already holding as many sessions as one may. */
  #clientSessionsFull (request: McpRequest, reply: FastifyReply) {
    const limit = this.#sessions.limits.maxPerClient
    const who = request.client ? `client "${request.client.name}"` : `address ${request.ip}`
    request.log.warn({ limit }, 'MCP session refused: at MCP_MAX_SESSIONS_PER_CLIENT')
    // This client's own excess, not the router's: waiting will not help until it ends sessions of its own.
    return reply.code(429).send(jsonRpcError(JsonRpcErrorCode.ServerError,
      `Too Many Requests: ${who} already has ${limit} open sessions (MCP_MAX_SESSIONS_PER_CLIENT); ` +
      'end the ones it no longer uses (DELETE /mcp) or let them expire (MCP_SESSION_IDLE_MS)'))
  }
}

/** A controller aborted if the client closes the connection before its answer is sent whole. */
function abortedOnHangUp (reply: FastifyReply): AbortController {
  const connection = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) connection.abort(new Error('the client closed its connection'))
  })
  return connection
}

/** The POST's message, which the route classifies before its handler runs. */
function classified (request: McpRequest): ClassifiedMessage {
  if (request.mcpMessage === undefined) throw new Error('the /mcp POST route classifies its body before its handler runs')
  return request.mcpMessage
}

/** What the MCP server is told of the request: `connection` is a POST's, whose closing stops its calls. */
function contextOf (request: McpRequest, connection?: AbortSignal, caller?: string): HttpRequestContext {
  const { id: requestId, client, ip: address, mcpMessage: message } = request
  return { requestId, connection, client, address, caller, message }
}

/**
 * Whose logging level a stateless request sets or is answered at: its client key's, or its
 * fingerprint's when the router runs open. Only the two methods that use it pay for the hash.
 */
function logLevelCaller (message: ClassifiedMessage, request: McpRequest, fingerprint?: string): string | undefined {
  if (message.kind !== 'request' || (message.method !== 'tools/call' && message.method !== 'logging/setLevel')) return undefined
  return request.client ? `client:${request.client.name}` : `address:${fingerprint ?? fingerprintOf(request)}`
}

/** The stateless caller a request comes from, for matching its cancellations and keeping its logging level. */
function fingerprintOf (request: McpRequest): string {
  const identity = request.client && { client: request.client.name, principal: request.principal }
  return callerFingerprint(request.ip, request.headers, identity)
}

/**
 * Whose sessions a new one counts among (MCP_MAX_SESSIONS_PER_CLIENT): the client key's, or the
 * address's when the router is open.
 */
function sessionOwner (request: McpRequest): string {
  return request.client ? `client:${request.client.name}` : `address:${request.ip}`
}

async function logRefusal (request: McpRequest, response: Response) {
  const message = request.mcpMessage
  const rpcMethod = message?.kind === 'request' || message?.kind === 'notification' ? message.method : 'response'
  const { error } = await response.clone().json().catch(() => ({})) as Partial<JsonRpcErrorResponse>
  const outcome = `http_${response.status}`
  request.log.info({ rpcMethod, outcome, ...(error && { rpcErrorCode: error.code, reason: error.message }) }, `${rpcMethod}: ${outcome}`)
}

/** The Fastify request as the web Request the SDK reads (its body is `request.body`, passed beside it). */
function toWebRequest (request: McpRequest, signal?: AbortSignal): Request {
  // Node joins repeated request headers into one value (set-cookie, the exception, is a response header).
  const headers = request.headers as Record<string, string>
  return new Request(`http://localhost${request.url}`, { method: request.method, headers, ...(signal && { signal }) })
}
