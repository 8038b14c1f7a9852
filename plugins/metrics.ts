import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { RouterMetrics } from '../src/observability/metrics.js'
import { PriceTable } from '../src/observability/prices.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Prometheus metrics of this app; `GET /metrics` exposes them. */
    metrics: RouterMetrics
    /**
     * The price table (MODEL_PRICES and IMAGE_PRICES over built-in list prices) the cost metric and
     * USD budgets count from.
     */
    prices: PriceTable
  }
}

async function metricsPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  const prices = new PriceTable(config.MODEL_PRICES, config.IMAGE_PRICES)
  fastify.decorate('prices', prices)
  const metrics = new RouterMetrics({
    prices,
    knownModels: [...prices.models, config.MODEL, config.EMBEDDING_MODEL, config.IMAGE_MODEL],
    sources: {
      openSessions: () => fastify.mcpSessions.size,
      sessionsTakenOver: () => fastify.mcpSessions.takenOver,
      inFlightCalls: () => fastify.inFlightCalls.size,
    },
  })
  fastify.decorate('metrics', metrics)
  fastify.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: unknown paths fold into one label value.
    metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['config', 'in-flight-calls', 'mcp-sessions'] })
