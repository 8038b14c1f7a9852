import type { FastifyBaseLogger } from 'fastify'
import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

// Each unreadable entry is logged once, however often it is asked for until its TTL; the keys remembered
// for that are bounded.
const MAX_REPORTED_CORRUPT_KEYS = 1000

export interface ResponseCacheOptions {
  redis: SharedRedis | undefined
  log: FastifyBaseLogger
  ttlMs: number
  maxEntries: number
  maxBytes: number
  /** The time local entries expire by, in ms; unset: the LRU cache's own clock. */
  clock?: () => number
}

/** Tells a stored answer of one kind from anything else a cache entry may hold. */
export type StoredAnswerCheck<Answer> = (stored: unknown) => stored is Answer

/**
 * Answers kept by the hash of the request that produced them: in Redis when it is configured and
 * reachable, so one replica's answer serves the others; in this process's memory (bounded in
 * entries and bytes) otherwise, and while Redis is away. An answer is a plain value, stored as
 * JSON; what it means, and how it is shown to a client, is its tool's business.
 */
export class ResponseCache {
  readonly #local: LRUCache<string, string>
  readonly #redis: SharedRedis | undefined
  readonly #ttlMs: number
  readonly #maxEntryBytes: number
  readonly #log: FastifyBaseLogger
  readonly #reportedCorrupt = new LRUCache<string, true>({ max: MAX_REPORTED_CORRUPT_KEYS })

  constructor ({ redis, log, ttlMs, maxEntries, maxBytes, clock }: ResponseCacheOptions) {
    this.#redis = redis
    this.#log = log
    this.#ttlMs = ttlMs
    // One huge answer must not evict everything else.
    this.#maxEntryBytes = Math.floor(maxBytes / 10)
    this.#local = new LRUCache({
      max: maxEntries,
      maxSize: maxBytes,
      maxEntrySize: this.#maxEntryBytes,
      sizeCalculation: (value) => Buffer.byteLength(value),
      ttl: ttlMs,
      ...(clock && { perf: { now: clock } }),
    })
  }

  /** The answer stored under `key`, when there is one and `isAnswer` recognises it. */
  async get<Answer> (key: string, isAnswer: StoredAnswerCheck<Answer>): Promise<Answer | undefined> {
    const redis = this.#redis
    const local = () => this.#local.get(key)
    const stored = redis ? await redis.orLocal(async (client) => await client.get(redis.key('cache', key)) ?? undefined, local) : local()
    return stored === undefined ? undefined : this.#parse(key, stored, isAnswer)
  }

  async set (key: string, answer: unknown): Promise<void> {
    const value = JSON.stringify(answer)
    if (Buffer.byteLength(value) > this.#maxEntryBytes) return
    const redis = this.#redis
    const local = () => { this.#local.set(key, value) }
    if (!redis) return local()
    await redis.orLocal(async (client) => { await client.set(redis.key('cache', key), value, 'PX', this.#ttlMs) }, local)
  }

  /**
   * A stored answer, or a miss when what is stored is not one (an entry damaged, written by
   * something other than this router, or by a version of it that stored another format): the
   * call then answers and stores a good one.
   */
  #parse<Answer> (key: string, stored: string, isAnswer: StoredAnswerCheck<Answer>): Answer | undefined {
    const answer = parsedJson(stored)
    if (isAnswer(answer)) return answer
    if (!this.#reportedCorrupt.has(key)) {
      this.#reportedCorrupt.set(key, true)
      this.#log.warn({ cacheKey: key, storedBytes: Buffer.byteLength(stored) }, 'a response cache entry is not a stored answer; it is treated as a miss and replaced by the next answer')
    }
    return undefined
  }
}

function parsedJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
