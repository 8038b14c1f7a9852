import type { SharedRedis } from '../shared-state/shared-redis.js'

/** A router process as the others sharing its Redis see it. */
export interface ReplicaInfo {
  id: string
  version: string
  /** Epoch ms. */
  startedAt: number
  /** When it last said it was alive, epoch ms. */
  seenAt: number
}

/** How often each replica says it is alive; one that has not for three beats is no longer listed. */
const HEARTBEAT_MS = 5000
const MAX_LISTED = 100

/**
 * The replicas sharing one Redis: each writes a heartbeat key that expires unless renewed, and
 * its id in a sorted set by time, so a reader finds the live ones in two commands. Without Redis
 * the list is this process alone.
 */
export class Replicas {
  readonly #timer: NodeJS.Timeout | undefined

  constructor (readonly self: Omit<ReplicaInfo, 'seenAt'>, private readonly redis: SharedRedis | undefined, private readonly now: () => number = Date.now) {
    if (!redis) return
    this.#timer = setInterval(() => { this.#beat().catch(() => {}) }, HEARTBEAT_MS).unref()
    this.#beat().catch(() => {})
  }

  /** The live replicas, this one first. */
  async list (): Promise<ReplicaInfo[]> {
    const self = { ...this.self, seenAt: this.now() }
    const { redis } = this
    if (!redis) return [self]
    const others = await redis.orLocal(async (client) => {
      const ids = await client.zrangebyscore(redis.key('status', 'replicas'), this.now() - 3 * HEARTBEAT_MS, '+inf', 'LIMIT', 0, MAX_LISTED)
      const infos = ids.length === 0 ? [] : await client.mget(ids.map((id) => redis.key('status', 'replica', id)))
      return infos
        .flatMap((info) => info === null ? [] : [parseReplica(info)])
        .filter((info): info is ReplicaInfo => info !== undefined && info.id !== self.id)
    }, () => [])
    return [self, ...others.sort((a, b) => a.id.localeCompare(b.id))]
  }

  /** Stops the heartbeat and takes this replica off the list at once. */
  async close (): Promise<void> {
    clearInterval(this.#timer)
    const { redis } = this
    if (!redis?.reachable) return
    await redis.client.multi().zrem(redis.key('status', 'replicas'), this.self.id).del(redis.key('status', 'replica', this.self.id)).exec().catch(() => {})
  }

  async #beat (): Promise<void> {
    const { redis } = this
    if (!redis?.reachable) return
    const now = this.now()
    const set = redis.key('status', 'replicas')
    await redis.client.multi()
      .set(redis.key('status', 'replica', this.self.id), JSON.stringify({ ...this.self, seenAt: now }), 'PX', 3 * HEARTBEAT_MS)
      .zadd(set, now, this.self.id)
      .zremrangebyscore(set, '-inf', now - 3 * HEARTBEAT_MS)
      .pexpire(set, 3 * HEARTBEAT_MS)
      .exec()
  }
}

function parseReplica (text: string): ReplicaInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<ReplicaInfo>
    if (typeof value.id !== 'string' || typeof value.version !== 'string' || typeof value.startedAt !== 'number' || typeof value.seenAt !== 'number') return undefined
    return { id: value.id, version: value.version, startedAt: value.startedAt, seenAt: value.seenAt }
  } catch {
    return undefined
  }
}
