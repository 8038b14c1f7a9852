import { isLegacyRequest, type McpHttpHandler, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { wwwAuthenticate } from '../src/access/bearer-challenge.js'
import { type Client, bearerCredential, isAuthenticationFailure } from '../src/access/client-keys.js'
import { missingToolScope } from '../src/access/tool-scopes.js'
import { type ClassifiedMessage, type ClassifiedNotification, classifyMessage } from '../src/mcp/http/classified-message.js'
import { type JsonRpcErrorResponse, JsonRpcErrorCode, JsonRpcErrorSchema, JsonRpcMessageSchema, jsonRpcError } from '../src/mcp/http/json-rpc.js'
import { isPlainlyLegacy, modernEraHandler } from '../src/mcp/http/modern-era.js'
import { isOriginAllowed } from '../src/mcp/http/origin-policy.js'
import { SESSIONS_FULL } from '../src/mcp/http/sessions.js'
import { callerFingerprint, StatelessCalls } from '../src/mcp/http/stateless-calls.js'
import { authInfoCarrying, type HttpRequestContext } from '../src/mcp/request-context.js'
import { handleHttpRequest, sendResponse, watchTransport } from '../src/mcp/transport-adapter.js'
import { RouterErrorCode } from '../src/errors.js'
import { describeValidationErrors } from '../src/validation-errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** A POST's message, classified once when its body has been read and checked; every step reads it. */
    mcpMessage: ClassifiedMessage | undefined
  }
}

const SESSION_HEADER = 'mcp-session-id'

const exactValidator = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false })

const errorResponses = {
  400: JsonRpcErrorSchema,
  401: JsonRpcErrorSchema,
  403: JsonRpcErrorSchema,
  404: JsonRpcErrorSchema,
  405: JsonRpcErrorSchema,
  406: JsonRpcErrorSchema,
  413: JsonRpcErrorSchema,
  415: JsonRpcErrorSchema,
  429: JsonRpcErrorSchema,
  500: JsonRpcErrorSchema,
  503: JsonRpcErrorSchema,
}

// Successful answers come from the SDK transport as a web Response (JSON or an SSE stream), which Fastify sends as is.
const transportResponses = {
  200: Type.Unknown({ description: 'A JSON-RPC response (application/json) or an SSE stream of messages (text/event-stream).' }),
  202: Type.Null({ description: 'Accepted: the body held only notifications or responses.' }),
}

const McpHeaders = Type.Object({
  [SESSION_HEADER]: Type.Optional(Type.String({ description: 'Session id (MCP_SESSIONS=stateful), from the initialize response.' })),
  'mcp-protocol-version': Type.Optional(Type.String({ description: 'The negotiated MCP protocol version (2025 era), or the request\'s own (2026-07-28, with its `_meta` envelope).' })),
})

/**
 * The MCP Streamable HTTP endpoint. Fastify parses and checks the body; the SDK transport speaks
 * the protocol and answers with a web Response, which Fastify sends, so Fastify's headers and
 * hooks apply to MCP answers like any other (nothing is hijacked).
 */
export default async function mcpRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const stateful = fastify.config.MCP_SESSIONS === 'stateful'
  const statelessCalls = new StatelessCalls()
  const modern = modernEraHandler(fastify.toolRuntime, fastify.log)
  // Subscribers (2026-07-28 subscriptions/listen, 2025 sessions' GET streams) hear of every reload this replica makes.
  const stopNotifying = fastify.modelRouter.onReload(() => {
    modern.notify.toolsChanged()
    fastify.mcpSessions.toolsChanged()
  })
  // Before the server closes: an open subscriptions/listen stream would keep it waiting.
  fastify.addHook('preClose', async () => {
    stopNotifying()
    await modern.close()
  })
  readJsonRpcOnly(fastify)
  fastify.decorateRequest('mcpMessage', undefined)
  app.addHook('onRequest', async (request, reply) => admit(fastify, request, reply))

  const rateLimit = fastify.mcpRateLimit
  app.post('/mcp', {
    bodyLimit: fastify.config.MAX_BODY_BYTES,
    config: { rateLimit },
    schema: { headers: McpHeaders, body: JsonRpcMessageSchema, response: { ...transportResponses, ...errorResponses } },
  }, async (request, reply) => {
    const message = classifyMessage(request.body)
    request.mcpMessage = message
    const scopeRefusal = lacksToolScope(fastify, message, request, reply)
    if (scopeRefusal) return scopeRefusal
    // Admitted (origin, host, key, rate, size) like every request; then the protocol era decides the path.
    if (!await isLegacyExchange(request, message)) return relayModern(modern, request, reply)
    const webRequest = toWebRequest(request)
    if (!stateful && message.kind === 'notification' && message.cancels) return cancel(statelessCalls, message.cancels, request, reply)
    const invalidParams = message.kind === 'request' ? message.invalidParams : undefined
    if (message.kind === 'request' && invalidParams !== undefined) {
      // The caller's mistake, answered as JSON-RPC answers one: an error response, HTTP 200.
      request.log.info({ reason: invalidParams }, 'MCP request refused: invalid params')
      return reply.code(200).send(jsonRpcError(JsonRpcErrorCode.InvalidParams, `Invalid params: ${invalidParams}`, message.id))
    }
    const { signal, fingerprint } = watchConnection(fastify, stateful ? undefined : statelessCalls, message, request, reply)
    if (!stateful) return relayStateless(fastify, message, request, webRequest, reply, signal, fingerprint)
    const sessionId = request.headers[SESSION_HEADER]
    if (sessionId !== undefined) return relayToSession(fastify, sessionId, request, webRequest, reply, signal)
    return openSession(fastify, message, request, webRequest, reply, signal)
  })

  app.get('/mcp', {
    config: { rateLimit },
    schema: { headers: McpHeaders, response: { 200: transportResponses[200], ...errorResponses } },
  }, async (request, reply) => stateful ? relayToSession(fastify, request.headers[SESSION_HEADER], request, toWebRequest(request), reply) : methodNotAllowed(reply))

  app.delete('/mcp', {
    config: { rateLimit },
    schema: { headers: McpHeaders, response: { 200: Type.Null(), ...errorResponses } },
  }, async (request, reply) => stateful ? relayToSession(fastify, request.headers[SESSION_HEADER], request, toWebRequest(request), reply) : methodNotAllowed(reply))
}

/**
 * The signal that stops a request's call when its client hangs up (unless streams are resumable),
 * and, stateless, the client's fingerprint, hashed once: its call is tracked under it for
 * notifications/cancelled, and its logging level may be kept under it.
 */
function watchConnection (fastify: FastifyInstance, statelessCalls: StatelessCalls | undefined, message: ClassifiedMessage, request: FastifyRequest, reply: FastifyReply): { signal: AbortSignal, fingerprint: string | undefined } {
  const connection = new AbortController()
  let fingerprint: string | undefined
  let forget: (() => void) | undefined
  if (statelessCalls && message.kind === 'request') {
    fingerprint = fingerprintOf(request)
    forget = statelessCalls.track(fingerprint, message.id, connection)
  }
  reply.raw.once('close', () => {
    forget?.()
    // With resumable streams a broken connection is not the end of the call: the client may resume it (Last-Event-ID).
    if (!reply.raw.writableFinished && !fastify.mcpSessions.resumable) connection.abort(new Error('the client closed its connection'))
  })
  return { signal: connection.signal, fingerprint }
}

/** Bodies as JSON-RPC messages exactly as sent, and every refusal as a JSON-RPC error. */
function readJsonRpcOnly (app: FastifyInstance) {
  // JSON-RPC messages must reach the SDK as sent: Fastify's default validator coerces types (an id of 1 would become "1").
  app.setValidatorCompiler(({ schema }) => exactValidator.compile(schema))
  app.setErrorHandler(replyWithJsonRpcError)
  // MCP bodies are JSON only; anything else is 415, including the text/plain Fastify parses by default.
  // Some clients label bodiless GET and DELETE requests as JSON too; those are not parse errors.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (text === '' && request.method !== 'POST') return done(null, undefined)
    parseJson(request, text, done)
  })
}

/** Who may use the endpoint at all (its Host was checked for every route, by allowed-hosts): allowed origins, a router not shutting down, a valid client key when keys are on. */
async function admit (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
  const { config } = fastify
  if (!isOriginAllowed(request.headers.origin, config.ALLOWED_ORIGINS)) {
    return reply.code(403).send(jsonRpcError(JsonRpcErrorCode.ServerError, `Forbidden: Origin ${request.headers.origin} is not allowed (ALLOWED_ORIGINS)`))
  }
  if (fastify.inFlightCalls.draining) {
    return reply.code(503).header('retry-after', '1').header('connection', 'close')
      .send(jsonRpcError(JsonRpcErrorCode.ServerError, 'Service Unavailable: the router is shutting down; send the request again'))
  }
  const { clientKeys, accessTokens } = fastify
  if (!clientKeys) return
  const { authorization } = request.headers
  const client = clientKeys.authenticate(authorization)
  if (!isAuthenticationFailure(client)) return admitClient(request, reply, client)
  const resourceMetadata = fastify.config.oauth?.resourceMetadataUrl
  // A bearer that is no client key may be an access token of the OAuth issuer.
  const token = accessTokens && client.error === 'invalid_token' ? bearerCredential(authorization) : undefined
  if (!accessTokens || token === undefined) {
    const description = accessTokens && client.error === undefined ? 'send your client key or an OAuth access token as "Authorization: Bearer <token>"' : client.description
    request.log.info({ reason: description }, 'MCP request refused: no valid client key')
    return reply.code(401).header('www-authenticate', wwwAuthenticate({ ...client, description }, resourceMetadata))
      .send(jsonRpcError(JsonRpcErrorCode.ServerError, `Unauthorized: ${description}`))
  }
  const outcome = await accessTokens.authenticate(token)
  if ('client' in outcome) return admitClient(request, reply, outcome.client, outcome.principal)
  request.log.info({ reason: outcome.description }, 'MCP request refused: access token not accepted')
  if (outcome.status === 503) return reply.code(503).header('retry-after', '5').send(jsonRpcError(JsonRpcErrorCode.ServerError, `Service Unavailable: ${outcome.description}`))
  if (outcome.error === undefined) return reply.code(403).send(jsonRpcError(JsonRpcErrorCode.ServerError, `Forbidden: ${outcome.description}`))
  return reply.code(outcome.status).header('www-authenticate', wwwAuthenticate(outcome, resourceMetadata))
    .send(jsonRpcError(JsonRpcErrorCode.ServerError, `${outcome.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${outcome.description}`))
}

function admitClient (request: FastifyRequest, reply: FastifyReply, client: Client, principal?: string) {
  request.client = client
  request.principal = principal
  // The request's own lines (its completion, its refusals) name the client too, and the signed-in principal.
  request.log = reply.log = request.log.child({ client: client.name, ...(principal !== undefined && { principal }) })
}

/** A tools/call of a tool whose scope (OAUTH_TOOL_SCOPES) the access token lacks: 403 insufficient_scope, before any upstream call. */
function lacksToolScope (fastify: FastifyInstance, message: ClassifiedMessage, request: FastifyRequest, reply: FastifyReply) {
  const toolScopes = fastify.config.oauth?.toolScopes
  const tool = message.kind === 'request' ? message.tool : undefined
  if (!toolScopes || tool === undefined) return undefined
  const scope = missingToolScope(toolScopes, request.client, tool)
  if (scope === undefined) return undefined
  const description = `the tool ${tool} needs the scope ${scope}`
  request.log.info({ reason: description }, 'MCP request refused: insufficient scope')
  return reply.code(403).header('www-authenticate', wwwAuthenticate({ error: 'insufficient_scope', description, scope }, fastify.config.oauth?.resourceMetadataUrl))
    .send(jsonRpcError(JsonRpcErrorCode.ServerError, `Forbidden: ${description}`))
}

/** A stateless client's cancellation: it stops the call it names, if that call still runs here. */
function cancel (statelessCalls: StatelessCalls, { requestId, reason }: NonNullable<ClassifiedNotification['cancels']>, request: FastifyRequest, reply: FastifyReply) {
  const cancelled = statelessCalls.cancel(fingerprintOf(request), requestId, reason ? `the client cancelled the call (${reason})` : 'the client cancelled the call')
  request.log.info({ cancelledRequestId: requestId, matched: cancelled }, 'cancellation received')
  return reply.code(202).send(null)
}

/** One stateless exchange: a server and transport of its own, for this request only. */
async function relayStateless (fastify: FastifyInstance, message: ClassifiedMessage, request: FastifyRequest, webRequest: Request, reply: FastifyReply, connection: AbortSignal, fingerprint: string | undefined) {
  const { toolRuntime } = fastify
  const { server, messages } = toolRuntime.serverFor(request.client)
  const caller = logLevelCaller(message, request, fingerprint)
  // Progress and log messages need a stream; any other answer goes as plain JSON.
  const wantsProgress = message.kind === 'request' && message.progressToken !== undefined
  const enableJsonResponse = !wantsProgress && toolRuntime.logLevels.get(caller) === undefined
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse })
  // Only an exchange cut short has something to stop; closing a finished one would only cost
  // the SDK's "Connection closed" error, a stack trace per request (the benchmark's profile).
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) server.close().catch((err: unknown) => request.log.warn({ err }, 'MCP server did not close cleanly'))
  })
  await server.connect(transport)
  watchTransport(transport, messages)
  const context = contextOf(request, connection, caller)
  return sendResponse(await handleHttpRequest(transport, webRequest, context, request.body, messages), reply)
}

/**
 * Whose logging level a stateless request sets or is answered at: its client key's, or its
 * fingerprint's when the router runs open. Only the two methods that use it pay for the hash.
 */
function logLevelCaller (message: ClassifiedMessage, request: FastifyRequest, fingerprint: string | undefined): string | undefined {
  if (message.kind !== 'request' || (message.method !== 'tools/call' && message.method !== 'logging/setLevel')) return undefined
  return request.client ? `client:${request.client.name}` : `address:${fingerprint ?? fingerprintOf(request)}`
}

/** The stateless caller a request comes from, for matching its cancellations and keeping its logging level. */
function fingerprintOf (request: FastifyRequest): string {
  return callerFingerprint(request.ip, request.headers, request.client && { client: request.client.name, principal: request.principal })
}

/** Whether an exchange is of the 2025 era: plainly so (most traffic), or as the SDK classifies the rest. */
async function isLegacyExchange (request: FastifyRequest, message: ClassifiedMessage): Promise<boolean> {
  return isPlainlyLegacy(message, request.headers['mcp-protocol-version']) || isLegacyRequest(toWebRequest(request), request.body)
}

/**
 * One modern-era (2026-07-28) exchange. Its client cancels a call by closing the request's
 * connection: the web Request's signal, which the SDK watches, and the call's own connection.
 */
async function relayModern (modern: McpHttpHandler, request: FastifyRequest, reply: FastifyReply) {
  const connection = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) connection.abort(new Error('the client closed its connection'))
  })
  const authInfo = authInfoCarrying(contextOf(request, connection.signal))
  const response = await modern.fetch(toWebRequest(request, connection.signal), { parsedBody: request.body, authInfo })
  // Refused before any MCP server saw it (the era's own checks of version, envelope and headers): no message log line says so.
  if (response.status >= 400) await logRefusal(request, response)
  return sendResponse(response, reply)
}

async function logRefusal (request: FastifyRequest, response: Response) {
  const message = request.mcpMessage
  const rpcMethod = message?.kind === 'request' || message?.kind === 'notification' ? message.method : 'response'
  const { error } = await response.clone().json().catch(() => ({})) as Partial<JsonRpcErrorResponse>
  request.log.info({ rpcMethod, outcome: `http_${response.status}`, ...(error && { rpcErrorCode: error.code, reason: error.message }) }, `${rpcMethod}: http_${response.status}`)
}

/** A new session, opened by its initialize request, within MCP_MAX_SESSIONS and MCP_MAX_SESSIONS_PER_CLIENT. */
async function openSession (fastify: FastifyInstance, message: ClassifiedMessage, request: FastifyRequest, webRequest: Request, reply: FastifyReply, connection: AbortSignal) {
  if (message.kind !== 'request' || message.initialize === undefined) {
    return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required (send initialize first to open a session)'))
  }
  const { mcpSessions, toolRuntime } = fastify
  if (mcpSessions.full) return sessionsFull(fastify, request, reply)
  const owner = sessionOwner(request)
  if (mcpSessions.atClientLimit(owner)) return clientSessionsFull(fastify, request, reply)
  const session = await mcpSessions.open(() => toolRuntime.serverFor(request.client), request.client?.name, owner, message.initialize)
  return sendResponse(await session.handle(webRequest, contextOf(request, connection), request.body), reply)
}

/** A session this replica has no room for: one it would open, or one it would take over from another replica. */
function sessionsFull (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
  request.log.warn({ openSessions: fastify.mcpSessions.size }, 'MCP session refused: at MCP_MAX_SESSIONS')
  return reply.code(503).header('retry-after', '5')
    .send(jsonRpcError(JsonRpcErrorCode.ServerError, `Service Unavailable: the router has ${fastify.config.MCP_MAX_SESSIONS} open sessions (MCP_MAX_SESSIONS); close idle sessions or retry later`))
}

/** A client (an address, when the router is open) already holding as many sessions as one may. */
function clientSessionsFull (fastify: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
  const limit = fastify.config.MCP_MAX_SESSIONS_PER_CLIENT
  const who = request.client ? `client "${request.client.name}"` : `address ${request.ip}`
  request.log.warn({ limit }, 'MCP session refused: at MCP_MAX_SESSIONS_PER_CLIENT')
  // This client's own excess, not the router's: waiting will not help until it ends sessions of its own.
  return reply.code(429)
    .send(jsonRpcError(JsonRpcErrorCode.ServerError, `Too Many Requests: ${who} already has ${limit} open sessions (MCP_MAX_SESSIONS_PER_CLIENT); end the ones it no longer uses (DELETE /mcp) or let them expire (MCP_SESSION_IDLE_MS)`))
}

/** `connection`: a POST's, whose closing stops the calls it carried; GET and DELETE have none. */
async function relayToSession (fastify: FastifyInstance, sessionId: string | undefined, request: FastifyRequest, webRequest: Request, reply: FastifyReply, connection?: AbortSignal) {
  if (sessionId === undefined) {
    return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required'))
  }
  const { mcpSessions, toolRuntime } = fastify
  const client = request.client?.name
  const session = mcpSessions.get(sessionId) ?? await mcpSessions.adopt(sessionId, client, sessionOwner(request), () => toolRuntime.serverFor(request.client))
  if (session === SESSIONS_FULL) return sessionsFull(fastify, request, reply)
  // Another client's session is not this client's to use: it does not exist for it.
  if (!session || session.client !== client) {
    return reply.code(404).send(jsonRpcError(JsonRpcErrorCode.SessionNotFound, 'Session not found: it expired or was closed; initialize a new session'))
  }
  // A GET stream is not activity: a session kept only by its stream expires (MCP_SESSION_IDLE_MS).
  if (request.method !== 'GET') reply.raw.once('close', session.begin())
  return sendResponse(await session.handle(webRequest, contextOf(request, connection), request.body), reply)
}

/** Whose sessions a new one counts among (MCP_MAX_SESSIONS_PER_CLIENT): the client key's, or the address's when the router is open. */
function sessionOwner (request: FastifyRequest): string {
  return request.client ? `client:${request.client.name}` : `address:${request.ip}`
}

/** What the MCP server is told of the request (`HttpRequestContext`): `connection` is a POST's, whose closing stops its calls. */
function contextOf (request: FastifyRequest, connection?: AbortSignal, caller?: string): HttpRequestContext {
  return { requestId: request.id, connection, client: request.client, address: request.ip, caller, message: request.mcpMessage }
}

/** The Fastify request as the web Request the SDK reads (its body is `request.body`, passed beside it). */
function toWebRequest (request: FastifyRequest, signal?: AbortSignal): Request {
  // Node joins repeated request headers into one value (set-cookie, the exception, is a response header).
  const headers = request.headers as Record<string, string>
  return new Request(`http://localhost${request.url}`, { method: request.method, headers, ...(signal && { signal }) })
}

function methodNotAllowed (reply: FastifyReply) {
  // Stateless mode keeps no stream open and no session to end: every exchange is one POST.
  return reply.code(405).header('allow', 'POST')
    .send(jsonRpcError(JsonRpcErrorCode.ServerError, 'Method Not Allowed: this router runs stateless (MCP_SESSIONS=stateless); use POST'))
}

/** Fastify's own refusals (body parsing, schema validation) as the JSON-RPC errors MCP clients expect. */
function replyWithJsonRpcError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  // The client's doing, not the router's fault: error level is for the router's own failures.
  if (error.code === 'ECONNRESET' && request.raw.socket.destroyed) {
    request.log.info({ reason: error.message }, 'MCP request abandoned: the client closed its connection before sending its whole body')
    return reply.code(400).send(jsonRpcError(JsonRpcErrorCode.ParseError, 'Parse error: the body was cut short'))
  }
  const [status, body] = jsonRpcErrorFor(error, request.body, request.routeOptions.bodyLimit)
  if (status >= 500) request.log.error({ err: error }, 'MCP request failed')
  else request.log.info({ statusCode: status, reason: body.error.message }, 'MCP request refused')
  return reply.code(status).send(body)
}

/** The status and JSON-RPC error of a refusal: `body` is the parsed body, `bodyLimit` the route's MAX_BODY_BYTES. */
export function jsonRpcErrorFor (error: FastifyError, body: unknown, bodyLimit: number | undefined): [number, JsonRpcErrorResponse] {
  if (error.validation) {
    if (error.validationContext === 'body') {
      const detail = Array.isArray(body)
        ? 'a JSON array (batches are not supported; send one message per request)'
        : `not a JSON-RPC 2.0 message (${describeValidationErrors(error.validation as never)})`
      return [400, jsonRpcError(JsonRpcErrorCode.InvalidRequest, `Invalid Request: the body is ${detail}`)]
    }
    return [400, jsonRpcError(JsonRpcErrorCode.ServerError, `Bad Request: ${error.message}`)]
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, jsonRpcError(JsonRpcErrorCode.ServerError, 'Unsupported Media Type: Content-Type must be application/json')]
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, jsonRpcError(JsonRpcErrorCode.ServerError, `Payload Too Large: the body must not exceed ${bodyLimit} bytes (MAX_BODY_BYTES)`)]
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, jsonRpcError(JsonRpcErrorCode.ParseError, 'Parse error: the body is not valid JSON')]
    case RouterErrorCode.RateLimited:
      return [429, jsonRpcError(JsonRpcErrorCode.ServerError, error.message)]
  }
  return [500, jsonRpcError(JsonRpcErrorCode.InternalError, 'Internal error: the router failed to handle the request; the logs have the details')]
}
