import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

// OpenAI keeps stored responses for 30 days; the binding need not outlive them.
const OWNER_TTL_MS = 30 * 24 * 3600 * 1000
const MAX_LOCAL_OWNERS = 100_000

/**
 * Which client created each stored response (with client keys): `get_response` and
 * `cancel_response` of another client find no such response. Bound in Redis when it is configured,
 * so every replica knows; in this process's memory too (bounded), for while Redis is away.
 */
export class ResponseOwners {
  readonly #local = new LRUCache<string, string>({ max: MAX_LOCAL_OWNERS, ttl: OWNER_TTL_MS })

  constructor (private readonly redis: SharedRedis | undefined) {}

  /**
   * Binds `responseId` to `client`, unless it is bound already (a cached answer replayed to another
   * client stays its creator's). Redis decides who was first; this process records its answer, so
   * that while Redis is away the local binding is the one every replica agreed on.
   */
  async claim (responseId: string, client: string): Promise<void> {
    const claimLocally = () => { if (!this.#local.has(responseId)) this.#local.set(responseId, client) }
    const redis = this.redis
    if (!redis) return claimLocally()
    await redis.orLocal(async (connection) => {
      const key = redis.key('response-owner', responseId)
      const bound = await connection.set(key, client, 'PX', OWNER_TTL_MS, 'NX') === 'OK'
      this.#local.set(responseId, bound ? client : await connection.get(key) ?? client)
    }, claimLocally)
  }

  /** Whether `client` created the response; a response whose creator is not known is no client's. */
  async isOwner (responseId: string, client: string): Promise<boolean> {
    const local = () => this.#local.get(responseId)
    const redis = this.redis
    const owner = redis
      ? await redis.orLocal(async (connection) => {
        const shared = await connection.get(redis.key('response-owner', responseId))
        if (shared === null) return local()
        this.#local.set(responseId, shared)
        return shared
      }, local)
      : local()
    return owner === client
  }
}
