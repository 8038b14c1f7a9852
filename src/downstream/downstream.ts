import type { Tool } from '@modelcontextprotocol/server'
import type { FastifyBaseLogger } from 'fastify'
import { ToolError } from '../errors.js'
import { toGlob } from '../glob.js'
import type { FunctionTool } from '../upstream/chat-types.js'
import type { DownstreamConfig } from './downstream-config.js'
import type { DownstreamServer, DownstreamStatus } from './downstream-server.js'

/** A downstream tool as the model sees it: a function named `<server>__<tool>`. */
export interface DownstreamFunction {
  definition: FunctionTool
  server: DownstreamServer
  tool: string
}

/** The configured downstream MCP servers (DOWNSTREAM_MCP, THINK_TOOL_URL), by name. */
export class Downstream {
  readonly #servers: Map<string, DownstreamServer>

  private constructor (servers: DownstreamServer[]) {
    this.#servers = new Map(servers.map((server) => [server.name, server]))
  }

  /** The configured servers, not yet connected. The MCP client is loaded only when there are some. */
  static async create (config: DownstreamConfig[], reconnectMs: number, log: FastifyBaseLogger): Promise<Downstream> {
    if (config.length === 0) return new Downstream([])
    const { DownstreamServer } = await import('./downstream-server.js')
    return new Downstream(config.map((server) => new DownstreamServer(server, reconnectMs, log)))
  }

  get configured (): boolean {
    return this.#servers.size > 0
  }

  /** Connects to every server; resolves once each has tried once (failures retry in the background). */
  async start (): Promise<void> {
    await Promise.all([...this.#servers.values()].map((server) => server.start()))
  }

  /** The bearer tokens the router sends these servers, which no answer or log line may show. */
  get tokens (): string[] {
    return [...this.#servers.values()].flatMap((server) => server.config.token ?? [])
  }

  status (): Record<string, DownstreamStatus> {
    return Object.fromEntries([...this.#servers].map(([name, server]) => [name, server.status()]))
  }

  /**
   * The functions a `chat` call asked for: `all`, or selectors that are server names (all of
   * that server's tools) or globs over function names (`search__*`).
   */
  select (selectors: string[] | 'all'): Map<string, DownstreamFunction> {
    const available = new Map<string, DownstreamFunction>()
    for (const server of this.#servers.values()) {
      for (const tool of server.tools) available.set(functionName(server.name, tool.name), toFunction(server, tool))
    }
    if (selectors === 'all') return available
    const selected = new Map<string, DownstreamFunction>()
    for (const selector of selectors) {
      const server = this.#servers.get(selector)
      const state = server?.status()
      if (state && state.status !== 'ready') {
        const { status, lastError } = state
        throw new ToolError('upstream_unavailable', `The MCP server "${selector}" that use_tools names is ${status}${lastError ? ` (${lastError})` : ''}; the router keeps reconnecting, retry shortly.`, { retryable: true })
      }
      const glob = server ? undefined : toGlob(selector)
      const matches = [...available].filter(([name, fn]) => server ? fn.server === server : glob?.test(name))
      if (matches.length === 0) {
        const names = [...this.#servers.keys(), ...available.keys()]
        throw new ToolError('invalid_arguments', `Invalid arguments for chat: use_tools entry "${selector}" names no downstream tool. Available: ${names.length ? names.join(', ') : 'none (no DOWNSTREAM_MCP configured)'}.`, { retryable: false })
      }
      for (const [name, fn] of matches) selected.set(name, fn)
    }
    return selected
  }

  async close (): Promise<void> {
    await Promise.all([...this.#servers.values()].map((server) => server.close()))
  }
}

// Function names allow letters, digits, _ and - up to 64 characters; MCP tool names allow more.
function functionName (server: string, tool: string): string {
  return `${server}__${tool.replace(/[^\w-]/g, '_')}`.slice(0, 64)
}

function toFunction (server: DownstreamServer, tool: Tool): DownstreamFunction {
  return {
    server,
    tool: tool.name,
    definition: {
      type: 'function',
      name: functionName(server.name, tool.name),
      description: tool.description ?? tool.title ?? tool.name,
      parameters: tool.inputSchema as Record<string, unknown>,
    },
  }
}
