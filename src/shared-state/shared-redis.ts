import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'
import { CircuitBreaker } from '../circuit-breaker.js'

/**
 * How long the router stops sending commands after one failed (timed out, most often: a stalled
 * Redis keeps the connection up). Without it every command of a request waits its own
 * REDIS_COMMAND_TIMEOUT_MS, in turn; with it one request pays one timeout, and one command a
 * second probes whether Redis answers again.
 */
export const REDIS_BACKOFF_MS = 1000

/**
 * The Redis that replicas share counters and cached answers through. Redis is a help, never a
 * dependency: while it is unreachable every operation runs on this process's own state instead,
 * one error line says so, and one line says when Redis is back and shared state resumes.
 */
export class SharedRedis {
  readonly client: Redis
  #down = false
  /** Opened by a failed command; the first command after {@link REDIS_BACKOFF_MS} is its probe. */
  readonly #breaker: CircuitBreaker

  /**
   * `commandTimeoutMs`: how long one command may take before the caller gives up on it and uses
   * local state. `now`: the clock the backoff is measured on.
   */
  constructor (
    url: string,
    readonly prefix: string,
    private readonly log: FastifyBaseLogger,
    commandTimeoutMs: number,
    now: () => number = Date.now
  ) {
    this.#breaker = new CircuitBreaker({
      failureThreshold: 1,
      failureRatio: 1,
      minimumCalls: 1,
      windowMs: REDIS_BACKOFF_MS,
      cooldownMs: REDIS_BACKOFF_MS,
    }, () => {}, now)
    this.client = new Redis(url, {
      lazyConnect: true,
      // Commands fail at once while disconnected instead of queueing behind a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    })
    this.client.on('ready', () => this.#recovered())
    // Reconnection errors repeat every few seconds; the outage itself is logged once, by #lost.
    this.client.on('error', (err) => this.#lost(err))
  }

  /** Connects, or logs why not and goes on: the router serves with local state until Redis answers. */
  async connect (): Promise<void> {
    await this.client.connect().catch((err: unknown) => this.#lost(err))
  }

  /** Whether Redis is connected now; while it is not, every operation runs on local state. */
  get reachable (): boolean {
    return this.client.status === 'ready'
  }

  /** A key in the router's namespace. */
  key (...parts: Array<string | number>): string {
    return `${this.prefix}${parts.join(':')}`
  }

  /**
   * `remote` on Redis when it is reachable; `local` when it is not, when the command fails, and
   * for {@link REDIS_BACKOFF_MS} after a command failed.
   */
  async orLocal<T> (remote: (redis: Redis) => Promise<T>, local: () => T): Promise<T> {
    if (!this.reachable) {
      this.#lost(new Error(`Redis connection is ${this.client.status}`))
      return local()
    }
    if (!this.#breaker.tryEnter()) return local()
    try {
      const result = await remote(this.client)
      this.#breaker.succeeded()
      // A command that only timed out leaves the connection up: no 'ready' follows, so its success says so.
      this.#recovered()
      return result
    } catch (err) {
      this.#breaker.failed(err instanceof Error ? err.message : String(err))
      this.#lost(err)
      return local()
    }
  }

  async close (): Promise<void> {
    if (this.reachable) await this.client.quit().catch(() => this.client.disconnect())
    else this.client.disconnect()
  }

  #recovered (): void {
    if (!this.#down) return
    this.#down = false
    this.log.info('Redis is reachable again: rate limits, budgets and the cache are shared again')
  }

  #lost (err: unknown): void {
    if (this.#down) return
    this.#down = true
    this.log.error({ err }, 'Redis is unreachable: rate limits, budgets and the cache use this process\'s own state until it returns')
  }
}
