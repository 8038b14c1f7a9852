import { type HandleRequestOptions, WebStandardStreamableHTTPServerTransport, type WebStandardStreamableHTTPServerTransportOptions } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import type { McpMessageLog } from './message-log.js'

/**
 * The SDK's Streamable HTTP transport, showing its message log every message that comes in and
 * every response that goes out: the one place where both ends of every exchange pass.
 */
export class ObservedTransport extends WebStandardStreamableHTTPServerTransport {
  constructor (options: WebStandardStreamableHTTPServerTransportOptions, private readonly messages: McpMessageLog) {
    super(options)
  }

  override async handleRequest (req: Request, options?: HandleRequestOptions): Promise<Response> {
    // The HTTP layer hands over one parsed message per POST (batches are refused before this).
    const message = options?.parsedBody as JSONRPCMessage | undefined
    if (message === undefined) return super.handleRequest(req, options)
    this.messages.received(message, req.headers)
    const response = await super.handleRequest(req, options)
    if (response.status >= 400) this.messages.refused(message, response.status, this.sessionId)
    return response
  }

  override async send (message: JSONRPCMessage, options?: Parameters<WebStandardStreamableHTTPServerTransport['send']>[1]): Promise<void> {
    this.messages.sent(message, this.sessionId)
    return super.send(message, options)
  }

  override async close (): Promise<void> {
    this.messages.abandonAll(this.sessionId)
    return super.close()
  }
}
