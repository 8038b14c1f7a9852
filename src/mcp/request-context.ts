import type { AuthInfo } from '@modelcontextprotocol/server'
import type { Client } from '../access/client-keys.js'
import type { ClassifiedMessage } from './http/classified-message.js'

/**
 * What the HTTP layer tells the MCP server about the request that carried a message: its id
 * (logged, and sent upstream) and its connection's signal, whose closing stops the calls it
 * carried (GET and DELETE carry none), and the client whose key it came with. It reaches every
 * handler of the request's messages, in both session modes and both protocol eras, through
 * {@link authInfoCarrying}: nothing rides on the request's headers.
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
 * `context` in the SDK's `authInfo` slot, for `transport.handleRequest` and `handler.fetch`. The
 * SDK hands a message's handler (and the 2026-07-28 server factory) two things of its HTTP
 * request: the web Request itself (`ctx.http.req`) and this slot, passed through untouched
 * (`ctx.http.authInfo`); it is the only one that takes values of the caller's, so the router's
 * context rides in its `extra`. The client's name is its `clientId`; the token is empty, since
 * the credential is never needed past admission.
 */
export function authInfoCarrying (context: HttpRequestContext): AuthInfo {
  return { token: '', clientId: context.client?.name ?? '', scopes: [], extra: { [KEY]: context } }
}

/** The context {@link authInfoCarrying} put in a handler's `ctx.http.authInfo`. */
export function requestContextOf (authInfo: AuthInfo | undefined): HttpRequestContext | undefined {
  return authInfo?.extra?.[KEY] as HttpRequestContext | undefined
}
