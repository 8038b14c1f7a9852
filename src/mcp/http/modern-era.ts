import { createMcpHandler, type McpHttpHandler, ProtocolError } from '@modelcontextprotocol/server'
import type { FastifyBaseLogger } from 'fastify'
import { requestContextOf } from '../request-context.js'
import type { ToolRuntime } from '../tool-runtime.js'
import type { ClassifiedMessage } from './classified-message.js'

/** The first revision of the 2026-07-28 era; revisions are dates, so later ones compare greater. */
export const FIRST_MODERN_REVISION = '2026-07-28'

/**
 * The 2026-07-28 era of MCP (the SDK's `createMcpHandler`): no handshake and no session, each
 * request carrying its protocol version and client in a `_meta` envelope, one MCP server per
 * request. The SDK checks the envelope against the `MCP-Protocol-Version`, `Mcp-Method` and
 * `Mcp-Name` headers and answers `server/discover` itself. 2025-era traffic never reaches it
 * (`legacy: 'reject'`): the route sends that to the router's own stateless or session paths,
 * which keep cancellation by notification, resumable streams and session take-over.
 */
export function modernEraHandler (runtime: ToolRuntime, log: FastifyBaseLogger): McpHttpHandler {
  return createMcpHandler(({ authInfo }) => runtime.exchangeServerFor(requestContextOf(authInfo)?.client), {
    legacy: 'reject',
    onerror: (err) => {
      // The SDK reports its refusals of a client's request here too, which the route logs with the request.
      if (err instanceof ProtocolError || err.message.startsWith('Rejected ')) log.debug({ reason: err.message }, 'MCP request refused')
      else log.error({ err }, 'MCP exchange failed')
    },
  })
}

/**
 * Whether a message is plainly of the 2025 era, decided without the SDK's `isLegacyRequest`,
 * which validates the message against the protocol's schemas first (a good part of an echo's CPU;
 * docs/performance.md):
 * a response, or a request or notification with no envelope claim (the `_meta` protocol version)
 * and no 2026-07-28 `MCP-Protocol-Version` header. `false` means "ask the SDK", whose modern path
 * owns every answer to the rest (envelopes, their mismatches with the headers).
 */
export function isPlainlyLegacy (message: ClassifiedMessage, versionHeader: string | string[] | undefined): boolean {
  if (message.kind === 'response' || message.kind === 'error') return true
  if (Array.isArray(versionHeader)) return false
  if (versionHeader !== undefined && versionHeader.trim() >= FIRST_MODERN_REVISION) return false
  return !message.claimsModernEnvelope
}
