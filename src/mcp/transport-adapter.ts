import type { Server, Transport, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { FastifyReply } from 'fastify'
import { type ClassifiedMessage, classifyMessage, type JsonRpcId } from './http/classified-message.js'
import type { McpMessageLog } from './message-log.js'
import { authInfoCarrying, type HttpRequestContext, requestContextOf } from './request-context.js'
import { flushHeadersSoon, SseAnswer } from './sse-answer.js'

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
  /** The requests in flight whose SSE answer the router writes itself ({@link SseAnswer}), by id. */
  const answers = new Map<JsonRpcId, SseAnswer>()
  transport.onmessage = (message, extra) => {
    const context = requestContextOf(extra?.authInfo)
    // Over HTTP the route classified the message; over stdio it is classified here.
    const classified = context?.message ?? classifyMessage(message)
    const headers = extra?.request?.headers ?? new Headers()
    messages.received(classified, headers, context?.requestId)
    if (context?.answer && classified.kind === 'request') answers.set(classified.id, context.answer)
    onmessage?.(message, extra)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message, options) => {
    const cleared = messages.keys.redact(message)
    const classified = classifyMessage(cleared)
    messages.sent(classified, transport.sessionId)
    // What the router sends about a request in flight goes straight into its SSE answer, past the
    // SDK's send and its schema checks; the request's own answer still takes the SDK's path.
    const answer = options?.relatedRequestId === undefined ? undefined : answers.get(options.relatedRequestId)
    if (answer && (classified.kind === 'notification' || classified.kind === 'request')) return answer.write(cleared)
    if (classified.kind === 'response' || classified.kind === 'error') answers.delete(classified.id ?? '')
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

/**
 * The SSE answer the router writes itself for a POSTed request that asked for progress (see
 * {@link SseAnswer}), to go in its {@link HttpRequestContext}; none for other messages. A
 * 2026-07-28 exchange's begins at its first message: its SDK answers only once the call is over.
 * Not for a transport with an event store, whose SDK path gives each event its resumable id.
 */
export function progressAnswer (
  message: ClassifiedMessage | undefined,
  reply: FastifyReply,
  modern = false
): SseAnswer | undefined {
  if (message?.kind !== 'request' || message.progressToken === undefined) return undefined
  return new SseAnswer(reply, { beginsAtFirstMessage: modern })
}

/**
 * The SDK's web Response (either era's), sent by Fastify; through the request's own SSE answer
 * when it has one that is under way or the SDK answered with a stream.
 */
export async function sendResponse (
  response: Response,
  reply: FastifyReply,
  answer?: SseAnswer
): Promise<FastifyReply> {
  if (answer && (answer.begun || response.headers.get('content-type')?.startsWith('text/event-stream'))) {
    await answer.finish(response)
    return reply
  }
  if (response.headers.get('content-type')?.startsWith('application/json')) {
    // A JSON answer is whole already: sent as one string with its length rather than piped as a
    // stream (chunked, a read and a write per piece), a measurable share of an echo's CPU (docs/performance.md).
    reply.code(response.status)
    for (const [name, value] of response.headers) reply.header(name, value)
    return reply.send(await response.text())
  }
  reply.send(response)
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) flushHeadersSoon(reply)
  return reply
}
