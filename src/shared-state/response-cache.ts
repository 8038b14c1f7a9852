import type { CallToolResult } from '@modelcontextprotocol/server'
import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

export interface ResponseCacheOptions {
  redis: SharedRedis | undefined
  ttlMs: number
  maxEntries: number
  maxBytes: number
  /** The time local entries expire by, in ms; unset: the LRU cache's own clock. */
  clock?: () => number
}

/**
 * Answers kept by the hash of the request that produced them: in Redis when it is configured and
 * reachable, so one replica's answer serves the others; in this process's memory (bounded in
 * entries and bytes) otherwise, and while Redis is away.
 */
export class ResponseCache {
  readonly #local: LRUCache<string, string>
  readonly #redis: SharedRedis | undefined
  readonly #ttlMs: number
  readonly #maxEntryBytes: number

  constructor ({ redis, ttlMs, maxEntries, maxBytes, clock }: ResponseCacheOptions) {
    this.#redis = redis
    this.#ttlMs = ttlMs
    // One huge answer must not evict everything else.
    this.#maxEntryBytes = Math.floor(maxBytes / 10)
    this.#local = new LRUCache({ max: maxEntries, maxSize: maxBytes, maxEntrySize: this.#maxEntryBytes, sizeCalculation: (value) => Buffer.byteLength(value), ttl: ttlMs, ...(clock && { perf: { now: clock } }) })
  }

  async get (key: string): Promise<CallToolResult | undefined> {
    const redis = this.#redis
    const local = () => this.#local.get(key)
    const stored = redis ? await redis.orLocal(async (client) => await client.get(redis.key('cache', key)) ?? undefined, local) : local()
    return stored === undefined ? undefined : JSON.parse(stored) as CallToolResult
  }

  async set (key: string, result: CallToolResult): Promise<void> {
    const value = JSON.stringify(result)
    if (Buffer.byteLength(value) > this.#maxEntryBytes) return
    const redis = this.#redis
    const local = () => { this.#local.set(key, value) }
    if (!redis) return local()
    await redis.orLocal(async (client) => { await client.set(redis.key('cache', key), value, 'PX', this.#ttlMs) }, local)
  }
}
