import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

export interface DownstreamCall {
  tool: string
  args: Record<string, unknown>
  authorization: string | undefined
  /** Set when the call was cancelled before it finished. */
  aborted: boolean
  startedAt: number
  endedAt?: number
}

/**
 * A real second MCP server for the agent-loop tests (the SDK's McpServer over Streamable HTTP,
 * stateless, on 127.0.0.1): `think` notes a thought, `fail` fails, `hang` waits until cancelled
 * or `ms` pass, `slow_echo` answers after `ms`. It can stop and start again on the same port.
 */
export class FakeDownstream {
  readonly calls: DownstreamCall[] = []
  #server: Server | undefined
  #port = 0
  readonly #sessions = new Map<string, StreamableHTTPServerTransport>()
  readonly #servers = new Set<McpServer>()
  readonly #extraTools: string[] = []

  static async start (): Promise<FakeDownstream> {
    const downstream = new FakeDownstream()
    await downstream.listen()
    return downstream
  }

  get url (): string {
    return `http://127.0.0.1:${this.#port}/mcp`
  }

  /** Listens (again) on its port: the first time on a free one. Sessions do not survive a restart. */
  async listen (): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.destroy())
    })
    server.listen(this.#port, '127.0.0.1')
    await once(server, 'listening')
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
  }

  /** Adds a tool to every session (which tells its client with notifications/tools/list_changed) and to later ones. */
  addTool (name: string): void {
    this.#extraTools.push(name)
    for (const mcp of this.#servers) registerConstant(mcp, name)
  }

  async stop (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (!server) return
    const sessions = [...this.#sessions.values()]
    this.#sessions.clear()
    await Promise.all(sessions.map(async (transport) => transport.close().catch(() => {})))
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }

  // Stateful, as think-tool servers are: a client's notifications/cancelled reaches the call it cancels.
  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id']
    if (typeof sessionId === 'string') {
      const transport = this.#sessions.get(sessionId)
      if (!transport) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }))
        return
      }
      await transport.handleRequest(req, res)
      return
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      onsessioninitialized: (id) => { this.#sessions.set(id, transport) },
    })
    const mcp = this.#mcpServer(req.headers.authorization)
    transport.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId)
      this.#servers.delete(mcp)
    }
    this.#servers.add(mcp)
    await mcp.connect(transport)
    await transport.handleRequest(req, res)
  }

  #mcpServer (authorization: string | undefined): McpServer {
    const mcp = new McpServer({ name: 'fake-downstream', version: '1.0.0' })
    const record = (tool: string, args: Record<string, unknown>): DownstreamCall => {
      const call: DownstreamCall = { tool, args, authorization, aborted: false, startedAt: Date.now() }
      this.calls.push(call)
      return call
    }
    mcp.registerTool('think', {
      description: 'Think about something before answering.',
      inputSchema: { thought: z.string() },
    }, async ({ thought }) => {
      const call = record('think', { thought })
      call.endedAt = Date.now()
      return { content: [{ type: 'text', text: `Thought noted: ${thought}` }] }
    })
    mcp.registerTool('fail', {
      description: 'Always fails.',
      inputSchema: { reason: z.string().optional() },
    }, async ({ reason }) => {
      record('fail', { reason })
      return { isError: true, content: [{ type: 'text', text: `failed on purpose: ${reason ?? 'no reason'}` }] }
    })
    mcp.registerTool('slow_echo', {
      description: 'Echoes after a delay.',
      inputSchema: { text: z.string(), ms: z.number() },
    }, async ({ text, ms }, extra) => {
      const call = record('slow_echo', { text, ms })
      await sleep(ms, undefined, { signal: extra.signal }).catch(() => { call.aborted = true })
      call.endedAt = Date.now()
      return { content: [{ type: 'text', text }] }
    })
    mcp.registerTool('hang', {
      description: 'Waits until cancelled.',
      inputSchema: {},
    }, async (_args, extra) => {
      const call = record('hang', {})
      await sleep(60_000, undefined, { signal: extra.signal }).catch(() => { call.aborted = true })
      call.endedAt = Date.now()
      return { content: [{ type: 'text', text: 'woke up' }] }
    })
    for (const name of this.#extraTools) registerConstant(mcp, name)
    return mcp
  }
}

function registerConstant (mcp: McpServer, name: string): void {
  mcp.registerTool(name, { description: `The added tool ${name}.`, inputSchema: {} }, async () => ({ content: [{ type: 'text', text: `${name} ran` }] }))
}
