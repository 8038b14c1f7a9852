import { setTimeout as sleep } from 'node:timers/promises'
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server'
import type { SharedRedis } from '../../shared-state/shared-redis.js'

/** A stream keeps its latest events only: a client that fell further behind than this starts over. */
export const MAX_EVENTS_PER_STREAM = 1000

/** How often a stream another replica is still writing is read for new events. */
const FOLLOW_INTERVAL_MS = 50

/**
 * The SDK transport's id for a session's GET stream. Once a client has moved to another replica,
 * the server-initiated messages come from that replica's own copy of the session, so the old
 * replica's GET stream is replayed but not followed.
 */
const STANDALONE_STREAM_ID = '_GET_stream'

/** The events of one session's SSE streams, which its transport stores and replays. */
export interface SessionEventStore extends EventStore {
  /** The session ended: stop following streams for it. */
  close: () => void
  /**
   * The answer to a client resuming, from `lastEventId`, a stream that another replica writes
   * (its call runs there), which the store relays until the call's response; undefined for a
   * stream the transport replays itself. The SDK's transport ends a resumed stream once it has
   * replayed it unless it writes that stream itself, so it cannot relay one.
   */
  relayedStream?: (lastEventId: EventId, sessionId: string | undefined) => Promise<Response> | undefined
  /**
   * Why a client cannot resume from `lastEventId` (an id this router never gave, or of a stream
   * no longer kept), or undefined when it may try: the client's mistake, told apart from the
   * store's own failures, which replaying reports.
   */
  whyNotResumable: (lastEventId: EventId) => Promise<string | undefined>
}

/** Where sessions keep their events (MCP_EVENT_STORE): one store per session, so no session can replay another's. */
export interface SessionEvents {
  forSession: (sessionId: string) => SessionEventStore
}

interface StoredEvent {
  sequence: number
  message: JSONRPCMessage
}

/** Event ids name their stream and their place in it; the session is the store's own, never the client's to choose. */
const eventIdOf = (streamId: StreamId, position: string): EventId => `${streamId}.${position}`

function parseEventId (eventId: EventId): { streamId: StreamId, position: string } | undefined {
  const dot = eventId.lastIndexOf('.')
  if (dot <= 0 || dot === eventId.length - 1) return undefined
  return { streamId: eventId.slice(0, dot), position: eventId.slice(dot + 1) }
}

const NOT_OURS = 'is not an event id this router gave'
const GONE = 'names no stream this session still holds (its events are kept MCP_EVENT_TTL_S after the last one, on this replica only with MCP_EVENT_STORE=memory)'

const notOurs = () => new Error(`Last-Event-ID ${NOT_OURS}`)

function parseOrRefuse (eventId: EventId): { streamId: StreamId, position: string } {
  const parsed = parseEventId(eventId)
  if (!parsed) throw notOurs()
  return parsed
}

/**
 * The SDK's priming event (empty) opens a stream so the client holds an id before anything else;
 * it is never replayed.
 */
const isPriming = (message: JSONRPCMessage) => Object.keys(message).length === 0

/** Where a replay sends the events it finds (the SDK's `replayEventsAfter` callback). */
interface ReplaySink {
  send: (eventId: EventId, message: JSONRPCMessage) => Promise<void>
}

/** A POST stream ends with the response to its request. */
const isResponse = (message: JSONRPCMessage) => 'id' in message && ('result' in message || 'error' in message)

/** Positions in this process's memory (`m<sequence>`), told apart from Redis stream ids (`<ms>-<n>`). */
const MEMORY_POSITION = /^m(\d+)$/
const memoryPosition = (sequence: number) => `m${sequence}`
const REDIS_POSITION = /^\d+-\d+$/

/** One session's events in this process (MCP_EVENT_STORE=memory, and Redis's stand-in while it is away). */
export class MemoryEventLog implements SessionEventStore {
  readonly #streams = new Map<StreamId, { events: StoredEvent[], updatedAt: number }>()
  #sequence = 0

  constructor (private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async storeEvent (streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    return this.store(streamId, message)
  }

  store (streamId: StreamId, message: JSONRPCMessage): EventId {
    const now = this.now()
    for (const [id, stream] of this.#streams) if (now - stream.updatedAt > this.ttlMs) this.#streams.delete(id)
    const stream = this.#streams.get(streamId) ?? { events: [], updatedAt: now }
    this.#streams.set(streamId, stream)
    const sequence = ++this.#sequence
    stream.events.push({ sequence, message })
    stream.updatedAt = now
    if (stream.events.length > MAX_EVENTS_PER_STREAM) stream.events.shift()
    return eventIdOf(streamId, memoryPosition(sequence))
  }

  async getStreamIdForEventId (eventId: EventId): Promise<StreamId | undefined> {
    return parseEventId(eventId)?.streamId
  }

  async whyNotResumable (lastEventId: EventId): Promise<string | undefined> {
    const parsed = parseEventId(lastEventId)
    const sequence = Number(MEMORY_POSITION.exec(parsed?.position ?? '')?.[1])
    if (!parsed || Number.isNaN(sequence) || sequence > this.#sequence) return NOT_OURS
    return this.#streams.has(parsed.streamId) ? undefined : GONE
  }

  async replayEventsAfter (lastEventId: EventId, { send }: ReplaySink): Promise<StreamId> {
    const { streamId, position } = parseOrRefuse(lastEventId)
    const after = Number(MEMORY_POSITION.exec(position)?.[1])
    const stream = this.#streams.get(streamId)
    if (!stream || Number.isNaN(after)) throw new Error(`stream ${streamId} has expired or was never on this replica`)
    for (const { sequence, message } of stream.events) {
      if (sequence > after && !isPriming(message)) await send(eventIdOf(streamId, memoryPosition(sequence)), message)
    }
    return streamId
  }

  close (): void {
    this.#streams.clear()
  }
}

export class MemoryEvents implements SessionEvents {
  constructor (private readonly ttlMs: number) {}

  forSession (): SessionEventStore {
    return new MemoryEventLog(this.ttlMs)
  }
}

type StreamEntries = Array<[id: string, fields: string[]]>

/**
 * One session's events in Redis streams (one per SSE stream, capped and expiring), so a client
 * whose stream broke can resume it on any replica. A stream another replica is still writing
 * (its call still running there) is followed until its response arrives. While Redis is away,
 * events are kept in this process, resumable here only.
 */
export class RedisEventLog implements SessionEventStore {
  readonly #local: MemoryEventLog
  /** Streams this process writes and has not finished: the transport delivers their events live. */
  readonly #writing = new Set<StreamId>()
  readonly #closed = new AbortController()

  constructor (
    private readonly redis: SharedRedis,
    private readonly sessionId: string,
    private readonly ttlMs: number
  ) {
    this.#local = new MemoryEventLog(ttlMs)
  }

  async storeEvent (streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    if (isResponse(message)) this.#writing.delete(streamId)
    else this.#writing.add(streamId)
    const key = this.#key(streamId)
    return this.redis.orLocal(async (client) => {
      const [added] = await client.pipeline()
        .xadd(key, 'MAXLEN', '~', MAX_EVENTS_PER_STREAM, '*', 'message', JSON.stringify(message))
        .pexpire(key, this.ttlMs)
        .exec() ?? []
      if (!added || added[0]) throw added?.[0] ?? new Error('XADD had no answer')
      return eventIdOf(streamId, added[1] as string)
    }, () => this.#local.store(streamId, message))
  }

  async getStreamIdForEventId (eventId: EventId): Promise<StreamId | undefined> {
    return parseEventId(eventId)?.streamId
  }

  async replayEventsAfter (lastEventId: EventId, { send }: ReplaySink): Promise<StreamId> {
    const { streamId, position } = parseOrRefuse(lastEventId)
    if (MEMORY_POSITION.test(position)) return this.#local.replayEventsAfter(lastEventId, { send })
    // Checked here, not by Redis: a malformed id must not read as a Redis failure.
    if (!REDIS_POSITION.test(position)) throw notOurs()
    const replay = { position, finished: false }
    const forward = async (entries: StreamEntries) => {
      for (const [id, [, json]] of entries) {
        replay.position = id
        const message = JSON.parse(json as string) as JSONRPCMessage
        if (isPriming(message)) continue
        await send(eventIdOf(streamId, id), message)
        if (isResponse(message)) replay.finished = true
      }
    }
    const entries = await this.#read(streamId, replay.position)
    if (!entries) throw new Error(`stream ${streamId} has expired`)
    await forward(entries)
    // A stream this process writes continues through the transport itself. Following is best
    // effort: if it fails, the relay stops and the client's own timeout reports the call.
    if (!replay.finished && !this.#writing.has(streamId) && streamId !== STANDALONE_STREAM_ID) {
      this.#follow(streamId, replay, forward).catch(() => undefined)
    }
    return streamId
  }

  async whyNotResumable (lastEventId: EventId): Promise<string | undefined> {
    const parsed = parseEventId(lastEventId)
    if (parsed && MEMORY_POSITION.test(parsed.position)) return this.#local.whyNotResumable(lastEventId)
    if (!parsed || !REDIS_POSITION.test(parsed.position)) return NOT_OURS
    // Unknown while Redis is away: replaying says so.
    const key = this.#key(parsed.streamId)
    const exists = await this.redis.orLocal(async (client) => client.exists(key), () => undefined)
    return exists === 0 ? GONE : undefined
  }

  close (): void {
    this.#closed.abort()
    this.#local.close()
  }

  relayedStream (lastEventId: EventId, sessionId: string | undefined): Promise<Response> | undefined {
    const parsed = parseEventId(lastEventId)
    if (!parsed || !REDIS_POSITION.test(parsed.position)) return undefined
    if (parsed.streamId === STANDALONE_STREAM_ID || this.#writing.has(parsed.streamId)) return undefined
    return this.#relay(lastEventId, sessionId)
  }

  async #relay (lastEventId: EventId, sessionId: string | undefined): Promise<Response> {
    const encoder = new TextEncoder()
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined
    let open = true
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => { stream = controller },
      cancel: () => { open = false },
    })
    const send = async (eventId: EventId, message: JSONRPCMessage) => {
      if (!open) return
      stream?.enqueue(encoder.encode(`event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n`))
      if (isResponse(message)) {
        open = false
        stream?.close()
      }
    }
    try {
      await this.replayEventsAfter(lastEventId, { send })
    } catch {
      // As the SDK's transport answers a stream it cannot replay.
      return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Error replaying events' } }, { status: 500 })
    }
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', ...(sessionId && { 'mcp-session-id': sessionId }) },
    })
  }

  /**
   * Forwards what the replica running the call adds, until its response, the session's end, or a
   * stream silent for the TTL.
   */
  async #follow (
    streamId: StreamId,
    replay: { position: string, finished: boolean },
    forward: (entries: StreamEntries) => Promise<void>
  ): Promise<void> {
    const { signal } = this.#closed
    let heardAt = Date.now()
    while (!replay.finished && !signal.aborted && Date.now() - heardAt < this.ttlMs) {
      await sleep(FOLLOW_INTERVAL_MS, undefined, { signal }).catch(() => undefined)
      const entries = await this.#read(streamId, replay.position).catch(() => [])
      if (!entries) return
      if (entries.length > 0) heardAt = Date.now()
      await forward(entries)
    }
  }

  /** The stream's events after `position`; undefined once the stream has expired. Throws while Redis is away. */
  async #read (streamId: StreamId, position: string): Promise<StreamEntries | undefined> {
    const key = this.#key(streamId)
    return this.redis.orLocal(async (client) => {
      const [read, exists] = await client.pipeline().xrange(key, `(${position}`, '+').exists(key).exec() ?? []
      const failure = read?.[0] ?? exists?.[0]
      if (failure) throw failure
      return exists?.[1] === 1 ? read?.[1] as StreamEntries : undefined
    }, () => { throw new Error('Redis is unreachable: the stream cannot be replayed now') })
  }

  #key (streamId: StreamId): string {
    return this.redis.key('events', this.sessionId, streamId)
  }
}

export class RedisEvents implements SessionEvents {
  constructor (private readonly redis: SharedRedis, private readonly ttlMs: number) {}

  forSession (sessionId: string): SessionEventStore {
    return new RedisEventLog(this.redis, sessionId, this.ttlMs)
  }
}
