import type { SpanExporter } from '@opentelemetry/sdk-trace'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import accessTokensPlugin from '../plugins/access-tokens.js'
import allowedHostsPlugin from '../plugins/allowed-hosts.js'
import callHistoryPlugin from '../plugins/call-history.js'
import clientKeysPlugin from '../plugins/client-keys.js'
import clientSchemasPlugin from '../plugins/client-schemas.js'
import configPlugin from '../plugins/router-config.js'
import connectionLimitsPlugin from '../plugins/connection-limits.js'
import corsPlugin from '../plugins/cors.js'
import downstreamPlugin from '../plugins/downstream.js'
import inFlightCallsPlugin from '../plugins/in-flight-calls.js'
import mcpSessionsPlugin from '../plugins/mcp-sessions.js'
import metricsPlugin from '../plugins/metrics.js'
import modelRouterPlugin from '../plugins/model-router.js'
import redisPlugin from '../plugins/redis.js'
import requestIdPlugin from '../plugins/request-id.js'
import responseCachePlugin from '../plugins/response-cache.js'
import responseOwnersPlugin from '../plugins/response-owners.js'
import statusPlugin from '../plugins/status.js'
import toolRuntimePlugin from '../plugins/tool-runtime.js'
import tracingPlugin from '../plugins/tracing.js'
import usageLimitsPlugin from '../plugins/usage-limits.js'
import healthRoutes from '../routes/health.js'
import mcpRoutes from '../routes/mcp.js'
import oauthMetadataRoutes from '../routes/oauth-metadata.js'
import metricsRoutes from '../routes/metrics.js'
import statusRoutes from '../routes/status.js'
import { RouterLogController } from './observability/logger.js'
import { requestIdFor } from './request-id.js'

export interface BuildAppOptions {
  /** Where configuration comes from: `process.env` in production, a plain object in tests. */
  env: Record<string, string | undefined>
  logger?: FastifyServerOptions['logger']
  /** Receives every span, as if OTEL_EXPORTER_OTLP_ENDPOINT were set (tests use an in-memory exporter). */
  spanExporter?: SpanExporter
  /** How MCP reaches the app: `/mcp` over HTTP (the default), or the process's stdio (`--stdio`, src/mcp/stdio.ts). */
  transport?: 'http' | 'stdio'
  /**
   * The time circuit breakers, the in-memory response cache and the OAuth key set's cooldown go by;
   * unset: the real one (tests pass one they move).
   */
  clock?: () => number
}

/**
 * The whole router on one Fastify instance: the configuration, plugins (one concern each), then
 * routes. A bad configuration rejects here with a message naming the setting.
 */
export async function buildApp ({ env, logger = false, spanExporter, transport = 'http', clock }: BuildAppOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    logger,
    logController: new RouterLogController(),
    genReqId: requestIdFor,
    // Readiness and the MCP route answer shutdown themselves, with a reason, instead of Fastify's bare 503.
    return503OnClosing: false,
    // Consulted per request, once the configuration below has been validated.
    trustProxy: (address, hop) => app.config.TRUST_PROXY(address, hop),
    // How often Node looks for requests past REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS (its default,
    // 30 s, would let them run that much longer).
    http: { connectionsCheckingInterval: 1000 },
  })

  await app.register(configPlugin, { env })
  await app.register(connectionLimitsPlugin)
  await app.register(allowedHostsPlugin)
  await app.register(clientKeysPlugin, { transport })
  await app.register(accessTokensPlugin, { ...(clock && { clock }) })
  await app.register(redisPlugin)
  await app.register(requestIdPlugin)
  await app.register(tracingPlugin, { ...(spanExporter && { exporter: spanExporter }) })
  await app.register(corsPlugin)
  await app.register(inFlightCallsPlugin)
  await app.register(mcpSessionsPlugin)
  await app.register(metricsPlugin)
  await app.register(usageLimitsPlugin)
  await app.register(callHistoryPlugin)
  await app.register(responseCachePlugin, { ...(clock && { clock }) })
  await app.register(responseOwnersPlugin)
  await app.register(clientSchemasPlugin)
  await app.register(modelRouterPlugin, { ...(clock && { clock }) })
  await app.register(downstreamPlugin)
  await app.register(toolRuntimePlugin)
  await app.register(statusPlugin)

  await app.register(healthRoutes)
  await app.register(metricsRoutes)
  await app.register(mcpRoutes)
  await app.register(oauthMetadataRoutes)
  await app.register(statusRoutes)

  await app.ready()
  return app
}
