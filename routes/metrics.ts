import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { bearerToken, SharedSecret } from '../src/access/shared-secret.js'

const Unauthorized = Type.Object({ error: Type.String() })

/**
 * Prometheus' scrape endpoint; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`.
 * With client keys and no METRICS_TOKEN it serves nothing: its samples name the clients and what
 * they spend, which a router that asks its clients for keys must not show to anyone who asks.
 */
export default async function metricsRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, metrics } = fastify
  const expected = config.METRICS_TOKEN === undefined ? undefined : new SharedSecret(config.METRICS_TOKEN)
  const closed = expected === undefined && config.clients.length > 0
  if (closed) fastify.log.warn('GET /metrics is refused: client keys are configured but METRICS_TOKEN is not, and the metrics name the clients and their token use. Set METRICS_TOKEN to scrape them.')

  app.get('/metrics', {
    schema: {
      headers: Type.Object({ authorization: Type.Optional(Type.String()) }),
      response: {
        200: Type.String({ description: 'Prometheus text exposition format' }),
        401: Unauthorized,
        403: Unauthorized,
      },
    },
    // Scraped every few seconds: a line per scrape would drown the log.
    logLevel: 'warn',
  }, async (request, reply) => {
    if (closed) {
      return reply.code(403).send({ error: 'Forbidden: client keys are configured, so GET /metrics needs a METRICS_TOKEN, which the router\'s operator has not set' })
    }
    if (expected && !presents(request.headers.authorization, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: 'Unauthorized: GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' })
    }
    return reply.type(metrics.contentType).send(await metrics.exposition())
  })
}

function presents (authorization: string | undefined, expected: SharedSecret): boolean {
  const token = bearerToken(authorization)
  return token !== undefined && expected.matches(token)
}
