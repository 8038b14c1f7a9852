import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { RouterKeys } from '../src/access/router-keys.js'
import { ToolRuntime } from '../src/mcp/tool-runtime.js'
import { BodyLogging } from '../src/observability/log-bodies.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The tools and what they run with, shared by every MCP server: each session or stateless
     * request gets its server here.
     */
    toolRuntime: ToolRuntime
  }
}

async function toolRuntimePlugin (fastify: FastifyInstance) {
  const { config, modelRouter, downstream } = fastify
  // The routing table in force, not the one at start-up: a reload may bring new upstream keys.
  const keys = new RouterKeys(() => [...modelRouter.table.providerKeys, ...downstream.tokens])
  fastify.decorate('toolRuntime', new ToolRuntime({
    router: modelRouter,
    config,
    downstream,
    log: fastify.log,
    metrics: fastify.metrics,
    tracer: fastify.tracer,
    calls: fastify.inFlightCalls,
    budgets: fastify.budgets,
    prices: fastify.prices,
    history: fastify.callHistory,
    cache: fastify.responseCache,
    schemas: fastify.clientSchemas,
    responseOwners: fastify.responseOwners,
    keys,
    bodies: new BodyLogging({ mode: config.LOG_BODIES, maxChars: config.LOG_BODY_MAX_CHARS, keys }),
  }))
}

export default fp(toolRuntimePlugin, {
  name: 'tool-runtime',
  dependencies: ['config', 'model-router', 'downstream', 'metrics', 'tracing', 'in-flight-calls', 'usage-limits', 'call-history', 'response-cache', 'response-owners', 'client-schemas'],
})
