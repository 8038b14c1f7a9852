import { LRUCache } from 'lru-cache'
import type { SharedRedis } from './shared-redis.js'

// As long as a stored response lives at OpenAI: past it, nobody can fetch its usage any more.
const CHARGE_TTL_MS = 30 * 24 * 3600 * 1000
const MAX_LOCAL_CHARGES = 100_000

/** What a background response's chat reserved, left for whoever first learns what it spent. */
export interface DeferredCharge {
  client: string
  tokens: number
  microUsd: number
  /** When it was reserved: the windows it went into. */
  at: number
  /** The model its USD estimate was priced for. */
  model: string
}

/**
 * The reservations of background responses still running when their chat call ended, by response
 * id, until their usage is known (a `get_response` that finds them finished, a `chat` that
 * continues them). Taken once: in Redis with GETDEL, so of any number of replicas fetching the same
 * finished response at once, exactly one charges it; in this process's memory while Redis is away.
 */
export class DeferredCharges {
  readonly #local = new LRUCache<string, DeferredCharge>({ max: MAX_LOCAL_CHARGES, ttl: CHARGE_TTL_MS })

  constructor (private readonly redis: SharedRedis | undefined) {}

  async defer (responseId: string, charge: DeferredCharge): Promise<void> {
    this.#local.set(responseId, charge)
    const { redis } = this
    if (redis) await redis.orLocal(async (connection) => { await connection.set(redis.key('deferred-charge', responseId), JSON.stringify(charge), 'PX', CHARGE_TTL_MS) }, () => undefined)
  }

  /** Whether a charge is waiting for the response (read only: {@link take} decides who charges it). */
  async has (responseId: string): Promise<boolean> {
    const local = () => this.#local.has(responseId)
    const { redis } = this
    if (!redis) return local()
    return redis.orLocal(async (connection) => await connection.exists(redis.key('deferred-charge', responseId)) === 1, local)
  }

  /** The charge waiting for the response, removed: a second take, here or on another replica, finds none. */
  async take (responseId: string): Promise<DeferredCharge | undefined> {
    const local = () => {
      const charge = this.#local.get(responseId)
      this.#local.delete(responseId)
      return charge
    }
    const { redis } = this
    if (!redis) return local()
    return redis.orLocal(async (connection) => {
      const stored = await connection.getdel(redis.key('deferred-charge', responseId))
      // Redis decided: the local copy must not charge it a second time later.
      this.#local.delete(responseId)
      return stored === null ? undefined : parseCharge(stored)
    }, local)
  }
}

function parseCharge (stored: string): DeferredCharge | undefined {
  try {
    const value = JSON.parse(stored) as Partial<DeferredCharge>
    const numbers = [value.tokens, value.microUsd, value.at].every((field) => Number.isSafeInteger(field))
    return numbers && typeof value.client === 'string' && typeof value.model === 'string' ? value as DeferredCharge : undefined
  } catch {
    return undefined
  }
}
