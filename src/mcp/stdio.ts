import type { Server } from '@modelcontextprotocol/server'
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio'
import type { FastifyBaseLogger } from 'fastify'
import type { ModelRouter } from '../routing/model-router.js'
import type { ToolRuntime } from './tool-runtime.js'

export interface StdioOptions {
  runtime: ToolRuntime
  /** Whose reloads change the tools the client sees (notifications/tools/list_changed). */
  router: ModelRouter
  log: FastifyBaseLogger
  /** The largest message read from stdin (MAX_BODY_BYTES, as over HTTP); a larger one ends the connection. */
  maxMessageBytes: number
  /**
   * Whether to check the upstreams once at start (READY_CHECK_UPSTREAM): over stdio no /ready
   * asks, and the log is where the client shows what went wrong.
   */
  checkUpstreams: boolean
}

export interface StdioConnection {
  /** Settles when the connection is over: the client closed stdin, or {@link StdioConnection.close} was called. */
  readonly ended: Promise<void>
  close: () => Promise<void>
}

/**
 * The SDK's stdio transport, which says when it has closed, whatever closed it (stdin's end, an
 * oversized message, the router).
 */
class EndingStdioTransport extends StdioServerTransport {
  #markEnded: () => void = () => {}
  readonly ended = new Promise<void>((resolve) => { this.#markEnded = resolve })

  override async close (): Promise<void> {
    await super.close()
    this.#markEnded()
  }
}

/**
 * MCP over this process's stdin and stdout, for the one client that started the router: the
 * app's tools, with its configuration and limits. The SDK's `serveStdio` tells the era from the
 * opening message (`initialize`: 2025; a request with the 2026-07-28 `_meta` envelope, or
 * `server/discover`: 2026-07-28) and keeps one server for the connection. No key travels over
 * stdio: whoever starts the process holds its environment, the upstream keys included.
 */
export function serveOverStdio (options: StdioOptions): StdioConnection {
  const { runtime, router, log, maxMessageBytes, checkUpstreams } = options
  // Not awaited, and nothing to catch: a check never rejects, and logs its own failure (an
  // unreachable upstream; a missing API, with the setting to change).
  if (checkUpstreams) for (const provider of router.table.providers.values()) provider.check()
  const transport = new EndingStdioTransport(process.stdin, process.stdout, { maxBufferSize: maxMessageBytes })
  let server: Server | undefined
  const connection = serveStdio(() => {
    server = runtime.exchangeServerFor(undefined)
    return server
  }, {
    transport,
    onerror: (err) => log.warn({ err }, 'MCP over stdio: a message could not be handled'),
  })
  const stopNotifying = router.onReload(() => {
    server?.sendToolListChanged().catch((err: unknown) => log.debug({ err }, 'tools/list_changed not sent'))
  })
  const ended = transport.ended.then(() => { stopNotifying() })
  return { ended, close: connection.close }
}
