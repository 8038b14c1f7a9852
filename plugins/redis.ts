import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SharedRedis } from '../src/shared-state/shared-redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis replicas share state through (REDIS_URL); undefined: each process keeps its own. */
    redis: SharedRedis | undefined
  }
}

/**
 * The connection to REDIS_URL. Start-up does not wait for Redis to come back: an unreachable Redis
 * is logged, and the router serves with local state until it answers.
 */
async function redisPlugin (fastify: FastifyInstance) {
  const { REDIS_URL, REDIS_KEY_PREFIX, REDIS_COMMAND_TIMEOUT_MS } = fastify.config
  if (!REDIS_URL) {
    fastify.decorate('redis', undefined)
    return
  }
  // Loaded only when configured: a router without Redis does not carry its client's memory (docs/performance.md).
  const { SharedRedis } = await import('../src/shared-state/shared-redis.js')
  const redis = new SharedRedis(REDIS_URL, REDIS_KEY_PREFIX, fastify.log, REDIS_COMMAND_TIMEOUT_MS)
  await redis.connect()
  if (redis.reachable) fastify.log.info({ keyPrefix: REDIS_KEY_PREFIX }, 'Redis connected: rate limits, budgets and the cache are shared by the replicas')
  fastify.decorate('redis', redis)
  fastify.addHook('onClose', async () => redis.close())
}

export default fp(redisPlugin, { name: 'redis', dependencies: ['config'] })
