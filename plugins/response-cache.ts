import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ResponseCache } from '../src/shared-state/response-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Cached chat and embed answers; undefined when CACHE_TTL_S is 0. */
    responseCache: ResponseCache | undefined
  }
}

export interface ResponseCachePluginOptions {
  /** The time answers in this process's memory expire by; unset: the cache's own (performance.now). */
  clock?: () => number
}

/** The response cache: CACHE_TTL_S, CACHE_MAX_ENTRIES, CACHE_MAX_BYTES; shared through Redis when REDIS_URL is set. */
async function responseCachePlugin (fastify: FastifyInstance, { clock }: ResponseCachePluginOptions) {
  const { CACHE_TTL_S, CACHE_MAX_ENTRIES, CACHE_MAX_BYTES } = fastify.config
  const cache = CACHE_TTL_S > 0
    ? new ResponseCache({
      redis: fastify.redis,
      log: fastify.log,
      ttlMs: CACHE_TTL_S * 1000,
      maxEntries: CACHE_MAX_ENTRIES,
      maxBytes: CACHE_MAX_BYTES,
      clock,
    })
    : undefined
  fastify.decorate('responseCache', cache)
}

export default fp(responseCachePlugin, { name: 'response-cache', dependencies: ['config', 'redis'] })
