import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pkg from '../package.json' with { type: 'json' }
import { FIRST_MODERN_REVISION } from '../src/mcp/http/modern-era.js'
import { BudgetUsage } from '../src/status/client-usage.js'
import { OpenStreams } from '../src/status/open-streams.js'
import { Replicas } from '../src/status/replicas.js'
import { StatusBoard } from '../src/status/status-board.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Snapshots of the router's state for GET /status. */
    statusBoard: StatusBoard
  }
}

/**
 * What GET /status shows, gathered from the plugins that hold it; the replicas sharing Redis say
 * they are alive here.
 */
async function statusPlugin (fastify: FastifyInstance) {
  const { config, modelRouter, clientKeys, metrics, callHistory, redis, mcpSessions, inFlightCalls } = fastify
  const startedAt = Date.now()
  // The host (a pod's name) and process, and a few random bytes: containers all run as pid 1.
  const replicas = new Replicas({ id: `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`, version: pkg.version, startedAt }, redis)
  fastify.addHook('onClose', async () => replicas.close())

  const streams = new OpenStreams()
  fastify.addHook('onSend', async (_request, reply, payload) => {
    // An MCP answer is the SDK's web Response, whose headers Fastify copies after this hook.
    const type = payload instanceof Response ? payload.headers.get('content-type') : reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/event-stream')) streams.opened(reply.raw)
  })

  fastify.decorate('statusBoard', new StatusBoard({
    version: pkg.version,
    protocolVersions: [FIRST_MODERN_REVISION, ...SUPPORTED_PROTOCOL_VERSIONS],
    sessions: config.MCP_SESSIONS,
    startedAt,
    checkUpstream: config.READY_CHECK_UPSTREAM,
    providers: () => modelRouter.table.providers.values(),
    upstreamHealth: () => callHistory.upstream.rows(),
    clients: () => clientKeys?.list() ?? [],
    usage: new BudgetUsage(fastify.budgets),
    refusals: () => metrics.limitRefusals(),
    calls: callHistory.calls,
    replicas: () => replicas.list(),
    sharedState: () => redis ? { store: 'redis', reachable: redis.reachable } : { store: 'memory' },
    openSessions: () => mcpSessions.size,
    openStreams: () => streams.size,
    inFlightCalls: () => inFlightCalls.size,
    cacheLookups: () => metrics.cacheLookups(),
  }))
}

export default fp(statusPlugin, {
  name: 'status',
  dependencies: ['config', 'client-keys', 'redis', 'metrics', 'mcp-sessions', 'in-flight-calls', 'usage-limits', 'call-history', 'model-router'],
})
