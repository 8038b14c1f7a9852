import { type CallToolResult, Client, ProtocolError, SdkError, SdkErrorCode, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client'
import type { FastifyBaseLogger } from 'fastify'
import pkg from '../../package.json' with { type: 'json' }
import { type Glob, toGlob, matchesAny } from '../glob.js'
import { maskedUrl } from '../masked-url.js'
import type { DownstreamConfig } from './downstream-config.js'

export type DownstreamState = 'connecting' | 'ready' | 'failing' | 'closed'

export interface DownstreamStatus {
  status: DownstreamState
  url: string
  tools: string[]
  since: string
  lastError?: string
}

const MAX_RECONNECT_MS = 30_000

/**
 * One downstream MCP server, through the official SDK client: connected in the background, its
 * tools listed (again on `tools/list_changed`), and reconnected with exponential backoff
 * whenever it stops answering. A failing downstream never blocks the router.
 */
export class DownstreamServer {
  #client: Client | undefined
  #tools: Tool[] = []
  #state: DownstreamState = 'connecting'
  #since = new Date().toISOString()
  #lastError: string | undefined
  #attempt = 0
  #retryTimer: NodeJS.Timeout | undefined
  readonly #toolGlobs: Glob[]

  constructor (
    readonly config: DownstreamConfig,
    private readonly reconnectMs: number,
    private readonly log: FastifyBaseLogger
  ) {
    this.#toolGlobs = config.tools.map(toGlob)
  }

  get name (): string {
    return this.config.name
  }

  /** The tools offered to models: those the server lists that the configuration's globs select. */
  get tools (): Tool[] {
    return this.#state === 'ready' ? this.#tools : []
  }

  status (): DownstreamStatus {
    return {
      status: this.#state,
      url: maskedUrl(this.config.url),
      tools: this.tools.map((tool) => tool.name),
      since: this.#since,
      ...(this.#lastError && { lastError: this.#lastError }),
    }
  }

  /** Starts connecting; resolves after the first attempt, whatever its outcome. */
  async start (): Promise<void> {
    await this.#connect()
  }

  async call (tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const client = this.#client
    if (this.#state !== 'ready' || !client) {
      throw new Error(`the MCP server "${this.name}" is not connected (${this.#lastError ?? this.#state}); the router keeps trying to reconnect`)
    }
    try {
      const options = { signal, timeout: this.config.timeoutMs }
      return await client.callTool({ name: tool, arguments: args }, options) as CallToolResult
    } catch (err) {
      const timedOut = err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout && !signal.aborted
      // A JSON-RPC error is the server answering, a timeout its slowness; anything else means the connection is gone.
      if (!(err instanceof ProtocolError) && !timedOut && !signal.aborted) this.#failed(err)
      if (timedOut) {
        throw new Error(`${this.name}__${tool} did not answer within ${this.config.timeoutMs} ms`, { cause: err })
      }
      throw err
    }
  }

  async close (): Promise<void> {
    this.#state = 'closed'
    clearTimeout(this.#retryTimer)
    const client = this.#client
    this.#client = undefined
    await client?.close().catch(() => {})
  }

  async #connect (): Promise<void> {
    if (this.#state === 'closed') return
    const client = new Client({ name: pkg.name, version: pkg.version })
    const headers: Record<string, string> = this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}
    client.setNotificationHandler('notifications/tools/list_changed', async () => {
      await this.#listTools(client).catch((err: unknown) => this.#failed(err))
    })
    // The transport reports a lost notification stream or session here, often before any call would notice.
    client.onerror = (err) => { if (this.#client === client) this.#failed(err) }
    try {
      const transport = new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers } })
      await client.connect(transport, { timeout: this.config.timeoutMs })
      await this.#listTools(client)
    } catch (err) {
      await client.close().catch(() => {})
      this.#failed(err)
      return
    }
    // close() may have run while connecting.
    if (this.#isClosed()) {
      await client.close().catch(() => {})
      return
    }
    this.#client = client
    this.#attempt = 0
    this.#setState('ready', undefined)
    this.log.info({ downstream: this.name, tools: this.#tools.map((tool) => tool.name) }, 'downstream MCP server connected')
  }

  async #listTools (client: Client): Promise<void> {
    const tools: Tool[] = []
    let cursor: string | undefined
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: this.config.timeoutMs })
      tools.push(...page.tools)
      cursor = page.nextCursor
    } while (cursor)
    this.#tools = tools.filter((tool) => matchesAny(tool.name, this.#toolGlobs))
  }

  #failed (err: unknown): void {
    if (this.#state === 'closed' || this.#retryTimer) return
    const message = err instanceof Error ? err.message : String(err)
    const client = this.#client
    this.#client = undefined
    client?.close().catch(() => {})
    this.#setState('failing', message)
    // Full jitter: replicas that lost the same downstream do not all come back at the same moment.
    const delay = Math.random() * Math.min(this.reconnectMs * 2 ** this.#attempt++, MAX_RECONNECT_MS)
    this.log.warn({ downstream: this.name, err: message, retryInMs: Math.round(delay) }, 'downstream MCP server unavailable')
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#connect().catch((connectErr: unknown) => this.#failed(connectErr))
    }, delay)
    this.#retryTimer.unref()
  }

  #isClosed (): boolean {
    return this.#state === 'closed'
  }

  #setState (state: DownstreamState, lastError: string | undefined): void {
    if (state !== this.#state) this.#since = new Date().toISOString()
    this.#state = state
    this.#lastError = lastError
  }
}
