import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyInstance } from 'fastify'
import { admitCredentials, refuseForeignOrigins, refuseMissingToolScopes, refuseWhileDraining } from '../src/mcp/http/admission.js'
import { type ClassifiedMessage, classifyMessage } from '../src/mcp/http/classified-message.js'
import { McpEndpoint } from '../src/mcp/http/endpoint.js'
import { JsonRpcErrorSchema, JsonRpcMessageSchema } from '../src/mcp/http/json-rpc.js'
import { replyWithJsonRpcError } from '../src/mcp/http/json-rpc-errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** A POST's message, classified once when its body has been read and checked; every step reads it. */
    mcpMessage: ClassifiedMessage | undefined
  }
}

const exactValidator = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false })

const errorStatuses = [400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 503] as const
const errorResponses = Object.fromEntries(errorStatuses.map((status) => [status, JsonRpcErrorSchema]))

// Successful answers come from the SDK transport as a web Response (JSON or an SSE stream), which Fastify sends as is.
const transportResponses = {
  200: Type.Unknown({ description: 'A JSON-RPC response (application/json) or an SSE stream of messages (text/event-stream).' }),
  202: Type.Null({ description: 'Accepted: the body held only notifications or responses.' }),
}

const McpHeaders = Type.Object({
  'mcp-session-id': Type.Optional(Type.String({ description: 'Session id (MCP_SESSIONS=stateful), from the initialize response.' })),
  'mcp-protocol-version': Type.Optional(Type.String({
    description: 'The negotiated MCP protocol version (2025 era), or the request\'s own (2026-07-28, with its `_meta` envelope).',
  })),
})

/**
 * The MCP Streamable HTTP endpoint. Fastify parses and checks the body; the SDK transport speaks
 * the protocol and answers with a web Response, which Fastify sends, so Fastify's headers and
 * hooks apply to MCP answers like any other (nothing is hijacked).
 */
export default async function mcpRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, clientKeys, accessTokens, mcpSessions } = fastify
  const endpoint = new McpEndpoint({ runtime: fastify.toolRuntime, sessions: mcpSessions, stateful: config.MCP_SESSIONS === 'stateful', log: fastify.log })
  const stopNotifying = fastify.modelRouter.onReload(() => endpoint.toolsChanged())
  // Before the server closes: an open subscriptions/listen stream would keep it waiting.
  fastify.addHook('preClose', async () => {
    stopNotifying()
    await endpoint.close()
  })
  readJsonRpcOnly(fastify)
  fastify.decorateRequest('mcpMessage', undefined)

  const resourceMetadata = config.oauth?.resourceMetadataUrl
  const checkOrigin = refuseForeignOrigins(config.ALLOWED_ORIGINS)
  const checkDraining = refuseWhileDraining(fastify.inFlightCalls)
  const checkCredentials = admitCredentials(clientKeys && { clientKeys, accessTokens }, resourceMetadata)
  /*
   * Admission, one check per hook, in this order, for each route (its Host was checked for every
   * route, by allowed-hosts). The rate limit (`config.rateLimit`) comes after it on purpose: it
   * counts per client key, so it needs the admitted client, and a refused request spends no quota.
   * That order is @fastify/rate-limit's: it appends its own onRequest hook to the route's own
   * (these), when the route is declared. A fresh list per route, since it appends to the list given.
   */
  const onRequest = () => [checkOrigin, checkDraining, checkCredentials]
  const rateLimit = fastify.mcpRateLimit

  app.post('/mcp', {
    bodyLimit: config.MAX_BODY_BYTES,
    onRequest: onRequest(),
    // Once its body is read and checked: the message, classified once, then its tool's scope (OAUTH_TOOL_SCOPES).
    preHandler: [
      async (request) => { request.mcpMessage = classifyMessage(request.body) },
      refuseMissingToolScopes(config.oauth?.toolScopes, resourceMetadata),
    ],
    config: { rateLimit },
    schema: { headers: McpHeaders, body: JsonRpcMessageSchema, response: { ...transportResponses, ...errorResponses } },
  }, async (request, reply) => endpoint.post(request, reply))

  app.get('/mcp', {
    onRequest: onRequest(),
    config: { rateLimit },
    schema: { headers: McpHeaders, response: { 200: transportResponses[200], ...errorResponses } },
  }, async (request, reply) => endpoint.sessionRequest(request, reply))

  app.delete('/mcp', {
    onRequest: onRequest(),
    config: { rateLimit },
    schema: { headers: McpHeaders, response: { 200: Type.Null(), ...errorResponses } },
  }, async (request, reply) => endpoint.sessionRequest(request, reply))
}

/** Bodies as JSON-RPC messages exactly as sent, and every refusal as a JSON-RPC error. */
function readJsonRpcOnly (app: FastifyInstance) {
  // JSON-RPC messages must reach the SDK as sent: Fastify's default validator coerces types
  // (an id of 1 would become "1").
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
