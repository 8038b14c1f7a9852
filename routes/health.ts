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

const ProviderReadiness = Type.Object({
  ready: Type.Boolean({ description: 'Whether calls can go to it: its upstream check did not fail and its circuit is not open.' }),
  baseURL: Type.String(),
  api: StringEnum(['responses', 'chat_completions'] as const),
  check: UpstreamCheck,
  circuit: StringEnum(['closed', 'half_open', 'open', 'disabled'] as const),
  modelCircuits: Type.Optional(Type.Record(Type.String(), StringEnum(['closed', 'half_open', 'open'] as const), { description: 'Models whose own circuit is not closed (after overload or rate limits).' })),
  lastFailure: Type.Optional(Type.String({ description: 'The failure that opened the circuit.' })),
  inFlight: Type.Optional(Type.Integer({ description: 'Calls running now (providers with maxConcurrency).' })),
  queued: Type.Optional(Type.Integer({ description: 'Calls waiting for a slot.' })),
})

const DownstreamCheck = Type.Object({
  status: StringEnum(['connecting', 'ready', 'failing', 'closed'] as const),
  url: Type.String(),
  tools: Type.Array(Type.String()),
  since: Type.String({ description: 'When it entered this state.' }),
  lastError: Type.Optional(Type.String()),
})

const AccessCheck = Type.Object({
  mode: StringEnum(['client_keys', 'open'] as const, { description: 'client_keys: /mcp needs a Bearer key; open: anyone who reaches /mcp may call it.' }),
  clients: Type.Optional(Type.Integer()),
  warning: Type.Optional(Type.String()),
  oauth: Type.Optional(Type.Object({
    issuer: Type.String(),
    keys: StringEnum(['ok', 'unreachable'] as const, { description: 'Whether the issuer\'s JWKS could be fetched; informative only: client keys, and tokens whose keys are cached, still work.' }),
  })),
})

const SharedStateCheck = Type.Object({
  store: StringEnum(['memory', 'redis'] as const, { description: 'Where rate limits, budgets and cached answers live.' }),
  status: StringEnum(['ok', 'unreachable'] as const, { description: 'unreachable: Redis does not answer, and this process uses its own state meanwhile; informative only.' }),
})

const Readiness = Type.Object({
  status: StringEnum(['ready', 'not_ready', 'shutting_down'] as const),
  reason: Type.Optional(Type.String()),
  checks: Type.Object({
    config: Type.Literal('ok'),
    access: AccessCheck,
    sharedState: SharedStateCheck,
    upstream: UpstreamCheck,
    providers: Type.Record(Type.String(), ProviderReadiness),
    downstream: Type.Optional(Type.Record(Type.String(), DownstreamCheck, { description: 'Downstream MCP servers; informative only: a failing one does not make the router unready.' })),
  }),
  inFlightCalls: Type.Integer(),
  sessions: Type.Optional(Type.Integer({ description: 'Open MCP sessions (stateful mode).' })),
})

/**
 * Probes. `/health` is liveness: 200 while the process serves. `/ready` is readiness: 200 when the
 * configuration is loaded and at least one provider can serve (its upstream answered its last
 * check and its circuit is not open), 503 with the reason otherwise.
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
    const { inFlightCalls, modelRouter, config, clientKeys, accessTokens, redis } = fastify
    const shuttingDown = inFlightCalls.draining
    const providers = await Promise.all([...modelRouter.table.providers.values()].map(async (provider) => {
      const check = !config.READY_CHECK_UPSTREAM ? { status: 'disabled' as const } : shuttingDown ? { status: 'not_checked' as const } : await provider.check()
      const ready = provider.available && check.status !== 'failing'
      return { name: provider.name, readiness: { ready, ...provider.status(), check } }
    }))
    const oauth = accessTokens && config.oauth && { issuer: config.oauth.issuer, keys: await accessTokens.keysReachable() ? 'ok' as const : 'unreachable' as const }
    const serving = shuttingDown || providers.some(({ readiness }) => readiness.ready)
    const checks = providers.map(({ readiness }) => readiness.check)
    const upstream = checks.find((check) => check.status === 'ok') ?? checks.find((check) => check.status === 'failing') ?? checks[0] ?? { status: 'not_checked' as const }
    const body = {
      status: shuttingDown ? 'shutting_down' as const : serving ? 'ready' as const : 'not_ready' as const,
      ...(shuttingDown && { reason: 'the router is shutting down' }),
      ...(!serving && { reason: `no provider can serve: ${providers.map(({ name, readiness }) => `${name} (${readiness.check.status === 'failing' ? `upstream check failed: ${readiness.check.error}` : `circuit open: ${readiness.lastFailure}`})`).join('; ')}` }),
      checks: {
        config: 'ok' as const,
        access: clientKeys
          ? { mode: 'client_keys' as const, clients: clientKeys.size, ...(oauth && { oauth }) }
          : { mode: 'open' as const, warning: 'no client keys are configured (CLIENT_KEYS_FILE, CLIENT_KEYS): anyone who reaches /mcp can spend the upstream keys' },
        sharedState: { store: redis ? 'redis' as const : 'memory' as const, status: !redis || redis.reachable ? 'ok' as const : 'unreachable' as const },
        upstream,
        providers: Object.fromEntries(providers.map(({ name, readiness }) => [name, readiness])),
        ...(fastify.downstream.configured && { downstream: fastify.downstream.status() }),
      },
      inFlightCalls: inFlightCalls.size,
      ...(config.MCP_SESSIONS === 'stateful' && { sessions: fastify.mcpSessions.size }),
    }
    return reply.code(body.status === 'ready' ? 200 : 503).send(body)
  })
}
