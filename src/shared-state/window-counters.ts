import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

/** A counter's value in its window, and how long until the window ends. */
export interface WindowCount {
  count: number
  resetMs: number
}

// INCRBY and the first PEXPIRE in one atomic step: replicas adding at once never lose a count or its expiry.
const ADD_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
`

type AddCommand = (key: string, amount: number, windowMs: number) => Promise<[number, number]>

/**
 * Counters that live for a time window (requests per minute, tokens per day): in Redis when it is
 * configured and reachable, so every replica counts into the same total; in this process otherwise.
 */
export class WindowCounters {
  readonly #local = new LRUCache<string, { count: number, expiresAt: number }>({ max: 100_000 })

  constructor (private readonly redis: SharedRedis | undefined) {
    redis?.client.defineCommand('routerWindowAdd', { numberOfKeys: 1, lua: ADD_SCRIPT })
  }

  /** Adds `amount` to the counter `key`; a counter that does not exist starts now, for `windowMs`. */
  async add (key: string, amount: number, windowMs: number): Promise<WindowCount> {
    const { redis } = this
    if (!redis) return this.#addLocal(key, amount, windowMs)
    return redis.orLocal(async (client) => {
      const [count, resetMs] = await (client as unknown as { routerWindowAdd: AddCommand }).routerWindowAdd(redis.key(key), amount, windowMs)
      return { count, resetMs }
    }, () => this.#addLocal(key, amount, windowMs))
  }

  /** The current values of several counters (0 for those that do not exist). */
  async read (keys: string[]): Promise<number[]> {
    const { redis } = this
    const local = () => keys.map((key) => this.#liveLocal(key)?.count ?? 0)
    if (!redis) return local()
    return redis.orLocal(async (client) => (await client.mget(keys.map((key) => redis.key(key)))).map(Number), local)
  }

  #addLocal (key: string, amount: number, windowMs: number): WindowCount {
    const now = Date.now()
    const entry = this.#liveLocal(key, now) ?? { count: 0, expiresAt: now + windowMs }
    entry.count += amount
    this.#local.set(key, entry)
    return { count: entry.count, resetMs: entry.expiresAt - now }
  }

  #liveLocal (key: string, now = Date.now()): { count: number, expiresAt: number } | undefined {
    const entry = this.#local.get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }
}
