import type { FastifyReply, FastifyRequest } from 'fastify'
import { type BearerChallenge, wwwAuthenticate } from '../../access/bearer-challenge.js'
import { type Client, type ClientKeys, bearerCredential, isAuthenticationFailure } from '../../access/client-keys.js'
import type { AccessTokens } from '../../access/oauth.js'
import { missingToolScope } from '../../access/tool-scopes.js'
import type { InFlightCalls } from '../in-flight-calls.js'
import type { ClassifiedMessage } from './classified-message.js'
import { JsonRpcErrorCode, jsonRpcError } from './json-rpc.js'
import { isOriginAllowed } from './origin-policy.js'

/** A request to /mcp as admission leaves it, and, once its body is read, a POST's message as classified. */
export interface McpRequest extends FastifyRequest {
  /** Its headers, as the route's schema checked them. */
  headers: FastifyRequest['headers'] & { 'mcp-session-id'?: string, 'mcp-protocol-version'?: string }
  /** The client whose credential it carried; undefined when the router runs open. */
  client: Client | undefined
  /** The OAuth principal, when the credential was an access token. */
  principal: string | undefined
  mcpMessage: ClassifiedMessage | undefined
}

/** Why /mcp turns a request away before any MCP server sees it: one shape for every check, one reply. */
export interface Refusal {
  status: 401 | 403 | 503
  /** What was wrong and what to do, for a person. */
  description: string
  /** The WWW-Authenticate challenge (RFC 6750), when the credential was missing or not enough. */
  challenge?: BearerChallenge
  retryAfterSeconds?: number
  /** Shutting down: the client should open its next connection elsewhere (another replica). */
  closeConnection?: boolean
  /** The refusal's log line; checks of the request's origin and of the router's state log none. */
  logLine?: string
}

/** What the request's credential makes of it: a client (and its principal), or a refusal. */
export type Admission = { client: Client, principal?: string | undefined } | { refusal: Refusal }

/** What /mcp accepts as credentials: client keys, and beside them access tokens of the OAuth issuer (OAUTH_ISSUER). */
export interface Credentials {
  clientKeys: ClientKeys
  accessTokens: AccessTokens | undefined
}

const STATUS_TEXT = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' } as const

/** Both credential kinds to one admission: a client key, or else an OAuth access token. */
export async function authenticate (authorization: string | undefined, credentials: Credentials): Promise<Admission> {
  const { clientKeys, accessTokens } = credentials
  const client = clientKeys.authenticate(authorization)
  if (!isAuthenticationFailure(client)) return { client }
  // A bearer that is no client key may be an access token of the OAuth issuer.
  const token = accessTokens && client.error === 'invalid_token' ? bearerCredential(authorization) : undefined
  if (!accessTokens || token === undefined) {
    const description = accessTokens && client.error === undefined
      ? 'send your client key or an OAuth access token as "Authorization: Bearer <token>"'
      : client.description
    const logLine = 'MCP request refused: no valid client key'
    return { refusal: { status: 401, description, challenge: { error: client.error, description }, logLine } }
  }
  const outcome = await accessTokens.authenticate(token)
  if ('client' in outcome) return outcome
  const { status, description } = outcome
  const logLine = 'MCP request refused: access token not accepted'
  if (status === 503) return { refusal: { status, description, retryAfterSeconds: 5, logLine } }
  if (outcome.error === undefined) return { refusal: { status, description, logLine } }
  return { refusal: { status, description, challenge: outcome, logLine } }
}

/** `refusal` as the JSON-RPC error MCP clients expect, with its status and headers. */
function replyWithRefusal (reply: FastifyReply, refusal: Refusal, resourceMetadata?: string): FastifyReply {
  const { status, description, challenge, retryAfterSeconds, closeConnection, logLine } = refusal
  if (logLine !== undefined) reply.log.info({ reason: description }, logLine)
  reply.code(status)
  if (challenge) reply.header('www-authenticate', wwwAuthenticate(challenge, resourceMetadata))
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  if (closeConnection) reply.header('connection', 'close')
  return reply.send(jsonRpcError(JsonRpcErrorCode.ServerError, `${STATUS_TEXT[status]}: ${description}`))
}

/** DNS-rebinding protection (the Host was checked for every route, by allowed-hosts): allowed origins only. */
export function refuseForeignOrigins (allowedOrigins: readonly string[]) {
  return async function checkOrigin (request: FastifyRequest, reply: FastifyReply) {
    const { origin } = request.headers
    if (isOriginAllowed(origin, allowedOrigins)) return
    return replyWithRefusal(reply, { status: 403, description: `Origin ${origin} is not allowed (ALLOWED_ORIGINS)` })
  }
}

/** A router shutting down takes no new requests: the client sends them again, to this replica's successor. */
export function refuseWhileDraining (calls: InFlightCalls) {
  return async function checkDraining (_request: FastifyRequest, reply: FastifyReply) {
    if (!calls.draining) return
    const description = 'the router is shutting down; send the request again'
    return replyWithRefusal(reply, { status: 503, description, retryAfterSeconds: 1, closeConnection: true })
  }
}

/**
 * A valid client key or access token, when the router has keys (`credentials`); its client then
 * names the request's log lines.
 */
export function admitCredentials (credentials: Credentials | undefined, resourceMetadata?: string) {
  return async function checkCredentials (request: McpRequest, reply: FastifyReply) {
    if (!credentials) return
    const admission = await authenticate(request.headers.authorization, credentials)
    if ('refusal' in admission) return replyWithRefusal(reply, admission.refusal, resourceMetadata)
    const { client, principal } = admission
    request.client = client
    request.principal = principal
    // The request's own lines (its completion, its refusals) name the client too, and the signed-in principal.
    request.log = reply.log = request.log.child({ client: client.name, ...(principal !== undefined && { principal }) })
  }
}

/**
 * A tools/call of a tool whose scope (OAUTH_TOOL_SCOPES) the access token lacks: 403
 * insufficient_scope, before any upstream call. Runs once the POST's message is classified.
 */
export function refuseMissingToolScopes (toolScopes: Record<string, string> | undefined, resourceMetadata?: string) {
  return async function checkToolScope (request: McpRequest, reply: FastifyReply) {
    const message = request.mcpMessage
    const tool = message?.kind === 'request' ? message.tool : undefined
    if (!toolScopes || tool === undefined) return
    const scope = missingToolScope(toolScopes, request.client, tool)
    if (scope === undefined) return
    const description = `the tool ${tool} needs the scope ${scope}`
    const challenge = { error: 'insufficient_scope' as const, description, scope }
    return replyWithRefusal(reply, { status: 403, description, challenge, logLine: 'MCP request refused: insufficient scope' }, resourceMetadata)
  }
}
