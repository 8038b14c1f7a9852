import rateLimit, { type RateLimitOptions, type RateLimitPluginOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Budgets, requestCounterKey } from '../src/access/budgets.js'
import { RateLimitedError } from '../src/errors.js'
import { ANONYMOUS_CLIENT } from '../src/observability/metrics.js'
import { DeferredCharges } from '../src/shared-state/deferred-charges.js'
import { type WindowCount, WindowCounters } from '../src/shared-state/window-counters.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Token and USD limits per client (tokensPerMinute, tokensPerDay, tokensPerMonth, usdPerDay,
     * usdPerMonth), and what each client has spent of them.
     */
    budgets: Budgets
    /** The request-rate limit of the /mcp routes; undefined when no client and no IP is limited. */
    mcpRateLimit: RateLimitOptions | undefined
  }
}

const MINUTE_MS = 60_000

/** What @fastify/rate-limit's store reports for a key: its count in the window, and the time left. */
interface RequestCount {
  current: number
  ttl: number
}

/**
 * What each client may spend: HTTP requests per minute on /mcp (per client key, or per IP when the
 * router is open), answered with 429 before any work; and tokens per minute, day and month,
 * reserved by the tools before they spend. Counters live in Redis when REDIS_URL is set, so every
 * replica enforces one total.
 */
async function usageLimitsPlugin (fastify: FastifyInstance) {
  const { config, metrics } = fastify
  const counters = new WindowCounters(fastify.redis)
  fastify.decorate('budgets', new Budgets({ counters, deferred: new DeferredCharges(fastify.redis), onRefused: (client, limit) => metrics.limitRefused(client, limit), defaultRequestsPerMinute: config.RATE_LIMIT_RPM }))

  const limitOf = (request: FastifyRequest) => request.client?.requestsPerMinute ?? config.RATE_LIMIT_RPM
  // A clients file can gain a requestsPerMinute on reload: the limiter is there for it from the start.
  const limited = config.RATE_LIMIT_RPM > 0 ||
    config.CLIENT_KEYS_FILE !== undefined ||
    config.clients.some((client) => client.requestsPerMinute !== undefined)
  fastify.decorate('mcpRateLimit', limited ? { max: limitOf, timeWindow: MINUTE_MS } : undefined)
  if (!limited) return

  // One store for every /mcp route (POST, GET and DELETE count together), in the shared counters.
  class RequestCounts {
    incr (key: string, done: (err: Error | null, result?: RequestCount) => void, windowMs: number): void {
      counters.add(key, 1, windowMs)
        .then(({ count, resetMs }: WindowCount) => done(null, { current: count, ttl: resetMs }), done)
    }

    child (): RequestCounts {
      return this
    }
  }

  await fastify.register(rateLimit, {
    global: false,
    store: RequestCounts as unknown as RateLimitPluginOptions['store'],
    // The IETF draft's RateLimit-Limit, -Remaining and -Reset, and Retry-After on a 429.
    enableDraftSpec: true,
    keyGenerator: (request) => request.client ? requestCounterKey(request.client.name) : `requests:ip:${request.ip}`,
    allowList: (request) => limitOf(request) === 0,
    onExceeded: (request) => metrics.limitRefused(request.client?.name ?? ANONYMOUS_CLIENT, 'requests_per_minute'),
    errorResponseBuilder: (request, { max, after }) => {
      const who = request.client ? `client "${request.client.name}"` : `address ${request.ip}`
      const setting = request.client?.requestsPerMinute !== undefined ? 'its requestsPerMinute' : 'RATE_LIMIT_RPM'
      return new RateLimitedError(`${who} may send ${max} requests per minute to /mcp (${setting}); retry in ${after}`)
    },
  })
}

export default fp(usageLimitsPlugin, { name: 'usage-limits', dependencies: ['config', 'client-keys', 'redis', 'metrics'] })
