import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { MemoryEvents, RedisEvents } from '../src/mcp/http/event-store.js'
import { SessionRegistry } from '../src/mcp/http/session-registry.js'
import { McpSessions } from '../src/mcp/http/sessions.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Stateful MCP sessions (MCP_SESSIONS=stateful): opened, taken over, expired and closed here. */
    mcpSessions: McpSessions
  }
}

async function mcpSessionsPlugin (fastify: FastifyInstance) {
  const { config, redis } = fastify
  const eventTtlMs = config.MCP_EVENT_TTL_S * 1000
  const shared = config.MCP_EVENT_STORE === 'redis' && redis
  const limits = {
    maxSessions: config.MCP_MAX_SESSIONS,
    maxPerClient: config.MCP_MAX_SESSIONS_PER_CLIENT,
    idleMs: config.MCP_SESSION_IDLE_MS,
  }
  const sessions = new McpSessions(limits, fastify.log, {
    events: shared ? new RedisEvents(shared, eventTtlMs) : config.MCP_EVENT_STORE === 'memory' ? new MemoryEvents(eventTtlMs) : undefined,
    registry: shared ? new SessionRegistry(shared, config.MCP_SESSION_IDLE_MS) : undefined,
  })
  fastify.decorate('mcpSessions', sessions)
  // Open GET streams would keep the listener from closing: end them once calls have drained.
  fastify.addHook('preClose', async () => { await sessions.closeAll() })
}

export default fp(mcpSessionsPlugin, { name: 'mcp-sessions', dependencies: ['config', 'redis', 'in-flight-calls'] })
