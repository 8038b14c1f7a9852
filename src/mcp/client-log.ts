import type { LoggingLevel } from '@modelcontextprotocol/server'
import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'

const SEVERITY: Record<LoggingLevel, number> = {
  debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7,
}

export const isLoggingLevel = (level: unknown): level is LoggingLevel => typeof level === 'string' && level in SEVERITY

/**
 * The levels 2025-era clients chose with `logging/setLevel`: by session (stateful), or by client
 * key, or the client's fingerprint when the router runs open (stateless, where each request has a
 * server of its own). The latest 10,000 are kept; a client forgotten gets no messages until it
 * sets its level again.
 */
export class ClientLogLevels {
  readonly #levels = new LRUCache<string, LoggingLevel>({ max: 10_000 })

  set (caller: string, level: LoggingLevel): void {
    this.#levels.set(caller, level)
  }

  get (caller: string | undefined): LoggingLevel | undefined {
    return caller === undefined ? undefined : this.#levels.get(caller)
  }
}

/** Sends one `notifications/message`. */
type SendLogMessage = (params: { level: LoggingLevel, logger: string, data: Record<string, unknown> }) => Promise<void>

/**
 * What the router tells a client about its own call (`notifications/message`, on the call's own
 * stream, so never another client's): retries, fallbacks, open circuits, agent-loop steps. Only
 * at and above the level the client chose; nothing when it chose none.
 */
export class ClientLog {
  constructor (
    private readonly level: LoggingLevel | undefined,
    private readonly send: SendLogMessage,
    private readonly log: FastifyBaseLogger
  ) {}

  write (level: LoggingLevel, message: string, details: Record<string, unknown> = {}): void {
    if (this.level === undefined || SEVERITY[level] < SEVERITY[this.level]) return
    this.send({ level, logger: 'mcp-openai-router', data: { message, ...details } })
      .catch((err: unknown) => this.log.debug({ err }, 'log message not sent to the client'))
  }
}
