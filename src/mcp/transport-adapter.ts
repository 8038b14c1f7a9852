import type { Server, Transport, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { FastifyReply } from 'fastify'
import { classifyMessage } from './http/classified-message.js'
import type { McpMessageLog } from './message-log.js'
import { authInfoCarrying, type HttpRequestContext, requestContextOf } from './request-context.js'

/*
 * The router's one adapter over the SDK's transports, for both protocol eras and stdio: every
 * message that comes in and every message that goes out passes `watchTransport`, and every HTTP
 * answer passes `sendResponse`. The SDK has no hook for either, so this is the one place that
 * wraps a transport's members; whatever else must change on those paths belongs here too.
 */

/**
 * Shows a connected transport to its server's message log: each message that comes in, each
 * that goes out (cleared first of the router's own keys, whatever part of the message an
 * upstream's text reached: a tool error, a result, a progress message), and the requests still
 * unanswered when it closes. Called once the server is connected, when the transport's
 * `onmessage` and `onclose` are the server's.
 */
export function watchTransport (transport: Transport, messages: McpMessageLog): void {
  const { onmessage, onclose } = transport
  transport.onmessage = (message, extra) => {
    const context = requestContextOf(extra?.authInfo)
    // Over HTTP the route classified the message; over stdio it is classified here.
    const headers = extra?.request?.headers ?? new Headers()
    messages.received(context?.message ?? classifyMessage(message), headers, context?.requestId)
    onmessage?.(message, extra)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message, options) => {
    const cleared = messages.keys.redact(message)
    messages.sent(classifyMessage(cleared), transport.sessionId)
    return send(cleared, options)
  }
  transport.onclose = () => {
    messages.abandonAll(transport.sessionId)
    onclose?.()
  }
}

/**
 * `server`, watching each transport it connects to: for transports the SDK builds and connects
 * itself (a 2026-07-28 exchange's, one per request; the stdio connection's), where connecting is
 * the one moment the router sees them.
 */
export function watchingEveryTransport (server: Server, messages: McpMessageLog): Server {
  const connect = server.connect.bind(server)
  server.connect = async (transport) => {
    await connect(transport)
    watchTransport(transport, messages)
  }
  return server
}

/**
 * One HTTP request to a 2025-era transport the router built (stateless, or a session's), with
 * `context` in the SDK's per-request slot. A message the transport refuses before any handler
 * sees it (a wrong header, a closed session) gets its log line here.
 */
export async function handleHttpRequest (
  transport: WebStandardStreamableHTTPServerTransport,
  webRequest: Request,
  context: HttpRequestContext,
  body: unknown,
  messages: McpMessageLog
): Promise<Response> {
  const response = await transport.handleRequest(webRequest, { parsedBody: body, authInfo: authInfoCarrying(context) })
  if (response.status >= 400 && context.message) {
    messages.refused(context.message, webRequest.headers, context.requestId, response.status, transport.sessionId)
  }
  return response
}

/** The SDK's web Response (either era's), sent by Fastify. */
export async function sendResponse (response: Response, reply: FastifyReply): Promise<FastifyReply> {
  if (response.headers.get('content-type')?.startsWith('application/json')) {
    // A JSON answer is whole already: sent as one string with its length rather than piped as a
    // stream (chunked, a read and a write per piece), a measurable share of an echo's CPU (docs/performance.md).
    reply.code(response.status)
    for (const [name, value] of response.headers) reply.header(name, value)
    return reply.send(await response.text())
  }
  reply.send(response)
  // Node sends headers with the first body chunk, which on an SSE stream may be minutes away
  // (a GET stream, or a call still waiting for the model): clients wait on the headers. Flushed
  // on the next turn, not at once: a quick answer (echo, a cached one) then leaves in the same
  // write as its headers, one write per exchange fewer (docs/performance.md).
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    setImmediate(() => { if (!reply.raw.headersSent && !reply.raw.destroyed) reply.raw.flushHeaders() })
  }
  return reply
}
