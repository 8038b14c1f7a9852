import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

/** A counter's value in its window, and how long until the window ends. */
export interface WindowCount {
  count: number
  resetMs: number
}

/** One counter of a reservation: what to add to it, unless it has already reached `limit`. */
export interface CounterReservation {
  key: string
  limit: number
  amount: number
  windowMs: number
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

// Every counter is checked, then every one is added to, in one atomic step: two replicas admitting
// at once cannot both see the room that only one of them may take. ARGV: limits, amounts, windows.
const RESERVE_SCRIPT = `
local n = #KEYS
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then return i - 1 end
end
for i = 1, n do
  redis.call('INCRBY', KEYS[i], ARGV[n + i])
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * n + i]) end
end
return -1
`

// Each counter's value and time left, in one round trip.
const READ_SCRIPT = `
local result = {}
for i, key in ipairs(KEYS) do
  result[2 * i - 1] = tonumber(redis.call('GET', key) or '0')
  result[2 * i] = redis.call('PTTL', key)
end
return result
`

interface WindowCommands {
  routerWindowAdd: (key: string, amount: number, windowMs: number) => Promise<[number, number]>
  routerWindowReserve: (keyCount: number, ...args: Array<string | number>) => Promise<number>
  routerWindowRead: (keyCount: number, ...keys: string[]) => Promise<number[]>
}

/**
 * Counters that live for a time window (requests per minute, tokens per day): in Redis when it is
 * configured and reachable, so every replica counts into the same total; in this process otherwise.
 */
export class WindowCounters {
  readonly #local = new LRUCache<string, { count: number, expiresAt: number }>({ max: 100_000 })

  constructor (private readonly redis: SharedRedis | undefined) {
    redis?.client.defineCommand('routerWindowAdd', { numberOfKeys: 1, lua: ADD_SCRIPT })
    redis?.client.defineCommand('routerWindowReserve', { lua: RESERVE_SCRIPT })
    redis?.client.defineCommand('routerWindowRead', { lua: READ_SCRIPT })
  }

  /**
   * Adds `amount` (negative to give back) to the counter `key`; a counter that does not exist
   * starts now, for `windowMs`.
   */
  async add (key: string, amount: number, windowMs: number): Promise<WindowCount> {
    const { redis } = this
    if (!redis) return this.#addLocal(key, amount, windowMs)
    return redis.orLocal(async (client) => {
      const [count, resetMs] = await commands(client).routerWindowAdd(redis.key(key), amount, windowMs)
      return { count, resetMs }
    }, () => this.#addLocal(key, amount, windowMs))
  }

  /**
   * Adds each reservation's amount to its counter if none of them has reached its limit yet, all
   * at once or not at all. Returns the index of the first counter at its limit (nothing was added),
   * or -1 when every amount was added.
   */
  async reserve (reservations: CounterReservation[]): Promise<number> {
    const { redis } = this
    const local = () => this.#reserveLocal(reservations)
    if (!redis || reservations.length === 0) return local()
    return redis.orLocal(async (client) => commands(client).routerWindowReserve(
      reservations.length,
      ...reservations.map(({ key }) => redis.key(key)),
      ...reservations.map(({ limit }) => limit),
      ...reservations.map(({ amount }) => amount),
      ...reservations.map(({ windowMs }) => windowMs)
    ), local)
  }

  /**
   * The current values of several counters and the time left in their windows (0 and 0 for those
   * that do not exist).
   */
  async read (keys: string[]): Promise<WindowCount[]> {
    const { redis } = this
    const local = () => keys.map((key) => this.#readLocal(key))
    if (!redis || keys.length === 0) return local()
    return redis.orLocal(async (client) => {
      const values = await commands(client).routerWindowRead(keys.length, ...keys.map((key) => redis.key(key)))
      return keys.map((_key, index) => ({
        count: values[2 * index] ?? 0,
        resetMs: Math.max(0, values[2 * index + 1] ?? 0),
      }))
    }, local)
  }

  #addLocal (key: string, amount: number, windowMs: number, now = Date.now()): WindowCount {
    const entry = this.#liveLocal(key, now) ?? { count: 0, expiresAt: now + windowMs }
    entry.count += amount
    this.#local.set(key, entry)
    return { count: entry.count, resetMs: entry.expiresAt - now }
  }

  #reserveLocal (reservations: CounterReservation[]): number {
    const now = Date.now()
    const full = reservations.findIndex(({ key, limit }) => (this.#liveLocal(key, now)?.count ?? 0) >= limit)
    if (full !== -1) return full
    for (const { key, amount, windowMs } of reservations) this.#addLocal(key, amount, windowMs, now)
    return -1
  }

  #readLocal (key: string): WindowCount {
    const now = Date.now()
    const entry = this.#liveLocal(key, now)
    return entry ? { count: entry.count, resetMs: entry.expiresAt - now } : { count: 0, resetMs: 0 }
  }

  #liveLocal (key: string, now: number): { count: number, expiresAt: number } | undefined {
    const entry = this.#local.get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }
}

function commands (client: unknown): WindowCommands {
  return client as WindowCommands
}
