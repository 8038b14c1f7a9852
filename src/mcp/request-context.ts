import type { AuthInfo } from '@modelcontextprotocol/server'
import type { Client } from '../access/client-keys.js'
import type { ClassifiedMessage } from './http/classified-message.js'

/**
 * What the HTTP layer tells the MCP server about the request that carried a message: its id
 * (logged, and sent upstream) and its connection's signal, whose closing stops the calls it
 * carried (GET and DELETE carry none), and the client whose key it came with. It travels as the
 * SDK's per-request `authInfo`, which the transport hands to every handler of the request's
 * messages as `ctx.http.authInfo`, in both session modes and both protocol eras (the modern
 * era's server factory reads the client from it): nothing rides on the request's headers.
 */
export interface HttpRequestContext {
  requestId: string
  connection?: AbortSignal | undefined
  client?: Client | undefined
  /** The address it came from (as TRUST_PROXY reads it). */
  address?: string | undefined
  /** Whose logging level applies to a stateless 2025 request (its client key, or its fingerprint). */
  caller?: string | undefined
  /** The POST's message as the route classified it (GET and DELETE carry none). */
  message?: ClassifiedMessage | undefined
}

const KEY = 'httpRequest'

/**
 * `context` as the `authInfo` of `transport.handleRequest`; the client's name is its `clientId`
 * (no key: it is never needed past the route).
 */
export function asAuthInfo (context: HttpRequestContext): AuthInfo {
  return { token: '', clientId: context.client?.name ?? '', scopes: [], extra: { [KEY]: context } }
}

/** The context {@link asAuthInfo} packed, from a handler's `ctx.http.authInfo`. */
export function requestContextOf (authInfo: AuthInfo | undefined): HttpRequestContext | undefined {
  return authInfo?.extra?.[KEY] as HttpRequestContext | undefined
}
