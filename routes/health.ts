import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { StringEnum } from '../src/schemas.js'

const Liveness = Type.Object({ status: Type.Literal('ok') })

const UpstreamCheck = Type.Object({
  status: StringEnum(['ok', 'failing', 'not_checked', 'disabled'] as const),
  checkedAt: Type.Optional(Type.String()),
  latencyMs: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
})

const DownstreamCheck = Type.Object({
  status: StringEnum(['connecting', 'ready', 'failing', 'closed'] as const),
  url: Type.String(),
  tools: Type.Array(Type.String()),
  since: Type.String({ description: 'When it entered this state.' }),
  lastError: Type.Optional(Type.String()),
})

const Readiness = Type.Object({
  status: StringEnum(['ready', 'not_ready', 'shutting_down'] as const),
  reason: Type.Optional(Type.String()),
  checks: Type.Object({
    config: Type.Literal('ok'),
    upstream: UpstreamCheck,
    downstream: Type.Optional(Type.Record(Type.String(), DownstreamCheck, { description: 'Downstream MCP servers; informative only: a failing one does not make the router unready.' })),
  }),
  inFlightCalls: Type.Integer(),
  sessions: Type.Optional(Type.Integer({ description: 'Open MCP sessions (stateful mode).' })),
})

/**
 * Probes. `/health` is liveness: 200 while the process serves. `/ready` is readiness: 200 when the
 * configuration is loaded and the upstream answered recently, 503 with the reason otherwise.
 */
export default async function healthRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/health', {
    schema: { response: { 200: Liveness } },
    logLevel: 'warn',
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    schema: { response: { 200: Readiness, 503: Readiness } },
    logLevel: 'warn',
  }, async (_request, reply) => {
    const { inFlightCalls, upstreamProbe, config } = fastify
    const shuttingDown = inFlightCalls.draining
    const upstream = upstreamProbe
      ? (shuttingDown ? { status: 'not_checked' as const } : await upstreamProbe.status())
      : { status: 'disabled' as const }
    const body = {
      status: shuttingDown ? 'shutting_down' as const : upstream.status === 'failing' ? 'not_ready' as const : 'ready' as const,
      ...(shuttingDown && { reason: 'the router is shutting down' }),
      ...(upstream.status === 'failing' && !shuttingDown && { reason: `upstream check failed: ${upstream.error}` }),
      checks: { config: 'ok' as const, upstream, ...(fastify.downstream.configured && { downstream: fastify.downstream.status() }) },
      inFlightCalls: inFlightCalls.size,
      ...(config.MCP_SESSIONS === 'stateful' && { sessions: fastify.mcpSessions.size }),
    }
    return reply.code(body.status === 'ready' ? 200 : 503).send(body)
  })
}
