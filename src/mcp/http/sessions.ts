import { randomUUID } from 'node:crypto'
import { type InitializeRequest, type JSONRPCMessage, type Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { FastifyBaseLogger } from 'fastify'
import { boundedText } from '../../bounded-text.js'
import type { McpMessageLog } from '../message-log.js'
import type { HttpRequestContext } from '../request-context.js'
import { handleHttpRequest, watchTransport } from '../transport-adapter.js'
import type { SessionEvents, SessionEventStore } from './event-store.js'
import { JsonRpcErrorCode, jsonRpcError } from './json-rpc.js'
import type { SessionRegistry } from './session-registry.js'

/** Longer than any event id the router gives (a stream id and a position). */
const QUOTED_ID_CHARS = 100

export interface McpSession {
  readonly id: string
  /** The client whose key opened it; only that client may use it. Undefined when the router runs open. */
  readonly client: string | undefined
  /** Marks the session busy until the returned function is called (when the HTTP exchange ends). */
  begin: () => () => void
  /** One HTTP request of the session's (`body`: a POST's parsed message) to its transport. */
  handle: (webRequest: Request, context: HttpRequestContext, body: unknown) => Promise<Response>
}

interface SessionEntry extends McpSession {
  transport: WebStandardStreamableHTTPServerTransport
  server: Server
  messages: McpMessageLog
  events: SessionEventStore | undefined
  /**
   * Whose sessions it counts among (MCP_MAX_SESSIONS_PER_CLIENT): the client's name, or the
   * address it came from when the router runs open.
   */
  owner: string
  active: number
  lastActivity: number
}

export interface SessionLimits {
  /** Most sessions open at once (MCP_MAX_SESSIONS). */
  maxSessions: number
  /** Most sessions one client (or address) may hold (MCP_MAX_SESSIONS_PER_CLIENT). */
  maxPerClient: number
  /** Time without a request after which a session is closed (MCP_SESSION_IDLE_MS). */
  idleMs: number
}

/** What a take-over answers when the session exists but this replica has no room for it. */
export const SESSIONS_FULL = Symbol('sessions full')

/** A new MCP server for a client, with the message log its transport feeds. */
export type ServerFactory = () => { server: Server, messages: McpMessageLog }

export interface SessionSharing {
  /** Where streams' events are kept for Last-Event-ID (MCP_EVENT_STORE); undefined: streams are not resumable. */
  events?: SessionEvents | undefined
  /** Sessions any replica may take over (MCP_EVENT_STORE=redis). */
  registry?: SessionRegistry | undefined
}

/**
 * Stateful MCP sessions (MCP_SESSIONS=stateful): at most MCP_MAX_SESSIONS at once and
 * MCP_MAX_SESSIONS_PER_CLIENT per client, each closed after MCP_SESSION_IDLE_MS without a
 * request or a running call (an open GET stream alone does not keep it), all closed on shutdown.
 */
export class McpSessions {
  readonly #sessions = new Map<string, SessionEntry>()
  /** Open sessions by owner. */
  readonly #owned = new Map<string, number>()
  /** Take-overs under way, so two requests arriving together for one session restore it once. */
  readonly #adopting = new Map<string, Promise<SessionEntry | typeof SESSIONS_FULL | undefined>>()
  readonly #sweeper: NodeJS.Timeout
  readonly #events: SessionEvents | undefined
  readonly #registry: SessionRegistry | undefined
  #takenOver = 0

  constructor (
    /** MCP_MAX_SESSIONS, MCP_MAX_SESSIONS_PER_CLIENT and MCP_SESSION_IDLE_MS, which refusals name. */
    readonly limits: SessionLimits,
    private readonly log: FastifyBaseLogger,
    { events, registry }: SessionSharing = {}
  ) {
    this.#events = events
    this.#registry = registry
    this.#sweeper = setInterval(() => this.closeIdle(), Math.min(limits.idleMs, 30_000))
    this.#sweeper.unref()
  }

  get size (): number {
    return this.#sessions.size
  }

  get full (): boolean {
    return this.#sessions.size >= this.limits.maxSessions
  }

  /** Whether `owner` holds as many sessions as one client may (MCP_MAX_SESSIONS_PER_CLIENT). */
  atClientLimit (owner: string): boolean {
    return (this.#owned.get(owner) ?? 0) >= this.limits.maxPerClient
  }

  get (id: string): McpSession | undefined {
    return this.#sessions.get(id)
  }

  /** Sessions this replica has taken over from another since it started. */
  get takenOver (): number {
    return this.#takenOver
  }

  /** Whether a client reconnecting with Last-Event-ID can resume a broken stream (MCP_EVENT_STORE). */
  get resumable (): boolean {
    return this.#events !== undefined
  }

  /**
   * A new session, opened by the `initialize` request the transport is about to answer; `owner`
   * is whose sessions it counts among.
   */
  async open (newServer: ServerFactory, client: string | undefined, owner: string, initialize: InitializeRequest['params']): Promise<McpSession> {
    const id = randomUUID()
    const { server, messages } = newServer()
    const entry = this.#entry(id, server, messages, client, owner, () => {
      this.#add(entry)
      this.log.info({ sessionId: id, openSessions: this.#sessions.size, ...(client && { client }) }, 'MCP session opened')
      // Not awaited: the registry is for other replicas, and never fails (Redis away: the session stays here).
      this.#registry?.save(id, { client: client ?? null, initialize })
    })
    await server.connect(entry.transport)
    watchTransport(entry.transport, messages)
    return entry
  }

  /**
   * A session another replica opened (MCP_EVENT_STORE=redis): restored here from the registry,
   * for the client that opened it, so the client goes on (and resumes its streams) on this replica.
   * SESSIONS_FULL when the session exists but this replica is at MCP_MAX_SESSIONS.
   */
  async adopt (
    id: string,
    client: string | undefined,
    owner: string,
    newServer: ServerFactory
  ): Promise<McpSession | typeof SESSIONS_FULL | undefined> {
    const registry = this.#registry
    if (!registry) return undefined
    const pending = this.#adopting.get(id) ??
      this.#restore(registry, id, client, owner, newServer).finally(() => this.#adopting.delete(id))
    this.#adopting.set(id, pending)
    const adopted = await pending
    return adopted === SESSIONS_FULL || adopted?.client === client ? adopted : undefined
  }

  async #restore (
    registry: SessionRegistry,
    id: string,
    client: string | undefined,
    owner: string,
    newServer: ServerFactory
  ): Promise<SessionEntry | typeof SESSIONS_FULL | undefined> {
    const record = await registry.find(id)
    if (!record || record.client !== (client ?? null)) return undefined
    if (this.full) return SESSIONS_FULL
    const { server, messages } = newServer()
    // A session taken over counts among its client's here too, but is not refused for it: it is
    // open already, elsewhere.
    const entry = this.#entry(id, server, messages, client, owner, () => this.#add(entry))
    await server.connect(entry.transport)
    try {
      await restore(entry.transport, record.initialize)
    } catch (err) {
      this.log.warn({ err, sessionId: id }, 'MCP session could not be taken over from another replica')
      await this.#close(entry)
      return undefined
    }
    // Watched from here on: the replayed messages were the client's old ones, not new ones.
    watchTransport(entry.transport, messages)
    this.#takenOver++
    this.log.info({ sessionId: id, openSessions: this.#sessions.size, ...(client && { client }) }, 'MCP session taken over from another replica')
    return entry
  }

  #add (entry: SessionEntry): void {
    this.#sessions.set(entry.id, entry)
    this.#owned.set(entry.owner, (this.#owned.get(entry.owner) ?? 0) + 1)
  }

  #remove (entry: SessionEntry): boolean {
    if (this.#sessions.get(entry.id) !== entry) return false
    this.#sessions.delete(entry.id)
    const left = (this.#owned.get(entry.owner) ?? 1) - 1
    if (left === 0) this.#owned.delete(entry.owner)
    else this.#owned.set(entry.owner, left)
    return true
  }

  /** A session's bookkeeping and its transport, which calls `register` once the session's initialize is answered. */
  #entry (
    id: string,
    server: Server,
    messages: McpMessageLog,
    client: string | undefined,
    owner: string,
    register: () => void
  ): SessionEntry {
    const events = this.#events?.forSession(id)
    let renewedAt = 0
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: events,
      onsessioninitialized: register,
      // Only a client's DELETE ends the session for every replica; a replica closing its copy
      // (idle, shutdown) does not.
      onsessionclosed: () => this.#registry?.remove(id),
    })
    const entry: SessionEntry = {
      id,
      transport,
      client,
      server,
      messages,
      events,
      owner,
      active: 0,
      lastActivity: Date.now(),
      begin: () => {
        entry.active++
        entry.lastActivity = Date.now()
        // Renewed at most ten times per idle time: a busy session costs Redis little.
        if (this.#registry && entry.lastActivity - renewedAt > this.limits.idleMs / 10) {
          renewedAt = entry.lastActivity
          this.#registry.renew(id)
        }
        return () => {
          entry.active--
          entry.lastActivity = Date.now()
        }
      },
      handle: async (webRequest, context, body) => {
        const lastEventId = webRequest.headers.get('last-event-id')
        const resumed = webRequest.method === 'GET' && lastEventId !== null && events ? await resume(events, lastEventId, id) : undefined
        return resumed ?? handleHttpRequest(transport, webRequest, context, body, messages)
      },
    }
    transport.onclose = () => {
      events?.close()
      if (this.#remove(entry)) this.log.info({ sessionId: id, openSessions: this.#sessions.size }, 'MCP session closed')
    }
    return entry
  }

  /**
   * Closes sessions with no request for longer than the idle time and none in flight (no POST
   * under way, no call still running). An open GET stream does not count: it would keep a session
   * forever without a single request.
   */
  closeIdle (now = Date.now()): number {
    const isIdle = (entry: SessionEntry) =>
      entry.active === 0 && entry.messages.pending === 0 && now - entry.lastActivity >= this.limits.idleMs
    const idle = [...this.#sessions.values()].filter(isIdle)
    // #close never rejects: failures are logged there.
    for (const entry of idle) this.#close(entry)
    return idle.length
  }

  /** Tells every session open here that the tools changed (`notifications/tools/list_changed`, on its GET stream). */
  toolsChanged (): void {
    for (const entry of this.#sessions.values()) {
      entry.server.sendToolListChanged().catch((err: unknown) => this.log.debug({ err, sessionId: entry.id }, 'tools/list_changed not sent'))
    }
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

/**
 * A GET that resumes a stream from `lastEventId`: refused when the id is not one to resume from,
 * or answered from another replica's stream (MCP_EVENT_STORE=redis); undefined when the
 * session's own transport replays it.
 */
async function resume (events: SessionEventStore, lastEventId: string, id: string): Promise<Response | undefined> {
  const problem = await events.whyNotResumable(lastEventId)
  if (problem !== undefined) {
    const quoted = JSON.stringify(boundedText(lastEventId, QUOTED_ID_CHARS))
    const message = `Bad Request: Last-Event-ID ${quoted} ${problem}; open the stream again without Last-Event-ID`
    return Response.json(jsonRpcError(JsonRpcErrorCode.ServerError, message), { status: 400 })
  }
  return events.relayedStream?.(lastEventId, id)
}

/**
 * Opens, on this replica, a session another replica opened: the client's own initialize and its
 * initialized notification, replayed to the server, so the transport takes the session's id and
 * the server the client's capabilities.
 */
async function restore (transport: WebStandardStreamableHTTPServerTransport, initialize: InitializeRequest['params']): Promise<void> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const replay = async (message: JSONRPCMessage, extraHeaders: Record<string, string> = {}) => {
    const body = JSON.stringify(message)
    const request = new Request('http://localhost/mcp', { method: 'POST', headers: { ...headers, ...extraHeaders }, body })
    const answer = await transport.handleRequest(request, { parsedBody: message })
    const text = await answer.text()
    if (!answer.ok) throw new Error(`the session could not be restored: ${answer.status} ${text}`)
  }
  await replay({ jsonrpc: '2.0', id: 0, method: 'initialize', params: initialize })
  await replay({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': transport.sessionId ?? '' })
}
