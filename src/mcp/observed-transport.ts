import { type HandleRequestOptions, type InitializeRequest, type JSONRPCMessage, type Transport, WebStandardStreamableHTTPServerTransport, type WebStandardStreamableHTTPServerTransportOptions } from '@modelcontextprotocol/server'
import { boundedText } from '../bounded-text.js'
import { classifyMessage } from './http/classified-message.js'
import type { SessionEventStore } from './http/event-store.js'
import { JsonRpcErrorCode, jsonRpcError } from './http/json-rpc.js'
import type { McpMessageLog } from './message-log.js'
import { requestContextOf } from './request-context.js'

/** Longer than any event id the router gives (a stream id and a position). */
const QUOTED_ID_CHARS = 100

/**
 * The SDK's Streamable HTTP transport, showing its message log every message that comes in and
 * every response that goes out: the one place where both ends of every exchange pass. What goes
 * out is cleared of the router's own keys first, whatever part of the message an upstream's text
 * reached (a tool error, a result, a progress message).
 */
export class ObservedTransport extends WebStandardStreamableHTTPServerTransport {
  readonly #events: SessionEventStore | undefined

  constructor (options: WebStandardStreamableHTTPServerTransportOptions & { eventStore?: SessionEventStore | undefined }, private readonly messages: McpMessageLog) {
    super(options)
    this.#events = options.eventStore
  }

  override async handleRequest (req: Request, options?: HandleRequestOptions): Promise<Response> {
    const lastEventId = req.headers.get('last-event-id')
    if (req.method === 'GET' && lastEventId !== null && this.#events) {
      const problem = await this.#events.whyNotResumable(lastEventId)
      if (problem !== undefined) return Response.json(jsonRpcError(JsonRpcErrorCode.ServerError, `Bad Request: Last-Event-ID ${JSON.stringify(boundedText(lastEventId, QUOTED_ID_CHARS))} ${problem}; open the stream again without Last-Event-ID`), { status: 400 })
      const relayed = this.#events.relayedStream?.(lastEventId, this.sessionId)
      if (relayed) return relayed
    }
    // The HTTP layer hands over one classified message per POST (batches are refused before this).
    const context = requestContextOf(options?.authInfo)
    const message = context?.message
    if (message === undefined) return super.handleRequest(req, options)
    this.messages.received(message, req.headers, context?.requestId)
    const response = await super.handleRequest(req, options)
    if (response.status >= 400) this.messages.refused(message, response.status, this.sessionId)
    return response
  }

  /**
   * Opens, on this replica, a session another replica opened: the client's own initialize and
   * its initialized notification, replayed to the server, so the transport takes the session's
   * id and the server the client's capabilities. They are the client's old messages, not new
   * ones: the message log does not see them.
   */
  async restore (initialize: InitializeRequest['params']): Promise<void> {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const replay = async (message: JSONRPCMessage, extraHeaders: Record<string, string> = {}) => {
      const request = new Request('http://localhost/mcp', { method: 'POST', headers: { ...headers, ...extraHeaders }, body: JSON.stringify(message) })
      const answer = await super.handleRequest(request, { parsedBody: message })
      const text = await answer.text()
      if (!answer.ok) throw new Error(`the session could not be restored: ${answer.status} ${text}`)
    }
    await replay({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initialize })
    await replay({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': this.sessionId ?? '' })
  }

  override async send (message: JSONRPCMessage, options?: Parameters<WebStandardStreamableHTTPServerTransport['send']>[1]): Promise<void> {
    const cleared = this.messages.keys.redact(message)
    this.messages.sent(classifyMessage(cleared), this.sessionId)
    return super.send(cleared, options)
  }

  override async close (): Promise<void> {
    this.messages.abandonAll(this.sessionId)
    return super.close()
  }
}

/**
 * What {@link ObservedTransport} does, for a transport the SDK builds itself (a modern-era
 * exchange's, one per request): every message that comes in goes to the message log, and every
 * one that goes out to the log cleared of the router's own keys. Called once the server is
 * connected, when the transport's `onmessage` is the server's.
 */
export function observeTransport (transport: Transport, messages: McpMessageLog): void {
  const { onmessage } = transport
  transport.onmessage = (message, extra) => {
    const context = requestContextOf(extra?.authInfo)
    // Over HTTP the route classified the message; over stdio it is classified here.
    messages.received(context?.message ?? classifyMessage(message), extra?.request?.headers ?? new Headers(), context?.requestId)
    onmessage?.(message, extra)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message, options) => {
    const cleared = messages.keys.redact(message)
    messages.sent(classifyMessage(cleared), undefined)
    return send(cleared, options)
  }
}
