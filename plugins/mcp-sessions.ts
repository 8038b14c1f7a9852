import { randomUUID } from 'node:crypto'
import type { Server } from '@modelcontextprotocol/sdk/server/index.js'
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { McpMessageLog } from '../src/mcp/message-log.js'
import { ObservedTransport } from '../src/mcp/observed-transport.js'

export interface McpSession {
  readonly id: string
  readonly transport: WebStandardStreamableHTTPServerTransport
  /** The client whose key opened it; only that client may use it. Undefined when the router runs open. */
  readonly client: string | undefined
  /** Marks the session busy until the returned function is called (when the HTTP exchange ends). */
  begin: () => () => void
}

interface SessionEntry extends McpSession {
  server: Server
  active: number
  lastActivity: number
}

/**
 * Stateful MCP sessions (MCP_SESSIONS=stateful): at most MCP_MAX_SESSIONS at once, each closed
 * after MCP_SESSION_IDLE_MS without a request or an open stream, all closed on shutdown.
 */
export class McpSessions {
  readonly #sessions = new Map<string, SessionEntry>()
  readonly #sweeper: NodeJS.Timeout

  constructor (
    private readonly maxSessions: number,
    private readonly idleMs: number,
    private readonly log: FastifyBaseLogger
  ) {
    this.#sweeper = setInterval(() => this.closeIdle(), Math.min(idleMs, 30_000))
    this.#sweeper.unref()
  }

  get size (): number {
    return this.#sessions.size
  }

  get full (): boolean {
    return this.#sessions.size >= this.maxSessions
  }

  get (id: string): McpSession | undefined {
    return this.#sessions.get(id)
  }

  /** A new session; the transport assigns its id while it answers the `initialize` request. */
  async open (server: Server, messages: McpMessageLog, client: string | undefined): Promise<WebStandardStreamableHTTPServerTransport> {
    const transport: ObservedTransport = new ObservedTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        const entry: SessionEntry = {
          id,
          transport,
          client,
          server,
          active: 0,
          lastActivity: Date.now(),
          begin: () => {
            entry.active++
            entry.lastActivity = Date.now()
            return () => {
              entry.active--
              entry.lastActivity = Date.now()
            }
          },
        }
        this.#sessions.set(id, entry)
        this.log.info({ sessionId: id, openSessions: this.#sessions.size, ...(client && { client }) }, 'MCP session opened')
      },
    }, messages)
    transport.onclose = () => {
      const id = transport.sessionId
      if (id && this.#sessions.delete(id)) this.log.info({ sessionId: id, openSessions: this.#sessions.size }, 'MCP session closed')
    }
    await server.connect(transport)
    return transport
  }

  /** Closes sessions with nothing in flight and no request for longer than the idle time. */
  closeIdle (now = Date.now()): number {
    const idle = [...this.#sessions.values()].filter((entry) => entry.active === 0 && now - entry.lastActivity >= this.idleMs)
    // #close never rejects: failures are logged there.
    for (const entry of idle) this.#close(entry)
    return idle.length
  }

  async closeAll (): Promise<void> {
    clearInterval(this.#sweeper)
    await Promise.all([...this.#sessions.values()].map((entry) => this.#close(entry)))
  }

  async #close (entry: SessionEntry): Promise<void> {
    // Closing the server closes its transport, which ends the session's open streams.
    await entry.server.close().catch((err: unknown) => this.log.warn({ err, sessionId: entry.id }, 'MCP session did not close cleanly'))
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    mcpSessions: McpSessions
  }
}

async function mcpSessionsPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  const sessions = new McpSessions(config.MCP_MAX_SESSIONS, config.MCP_SESSION_IDLE_MS, fastify.log)
  fastify.decorate('mcpSessions', sessions)
  // Open GET streams would keep the listener from closing: end them once calls have drained.
  fastify.addHook('preClose', async () => { await sessions.closeAll() })
}

export default fp(mcpSessionsPlugin, { name: 'mcp-sessions', dependencies: ['config', 'in-flight-calls'] })
