import { createHash, timingSafeEqual } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

const Unauthorized = Type.Object({ error: Type.String() })

/** Prometheus' scrape endpoint; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export default async function metricsRoutes (fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { config, metrics } = fastify
  const expected = config.METRICS_TOKEN === undefined ? undefined : digest(config.METRICS_TOKEN)

  app.get('/metrics', {
    schema: {
      headers: Type.Object({ authorization: Type.Optional(Type.String()) }),
      response: {
        200: Type.String({ description: 'Prometheus text exposition format' }),
        401: Unauthorized,
      },
    },
    // Scraped every few seconds: a line per scrape would drown the log.
    logLevel: 'warn',
  }, async (request, reply) => {
    if (expected && !presents(request.headers.authorization, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"')
        .send({ error: 'Unauthorized: GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' })
    }
    return reply.type(metrics.contentType).send(await metrics.exposition())
  })
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

// Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
function presents (authorization: string | undefined, expected: Buffer): boolean {
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]
  return token !== undefined && timingSafeEqual(digest(token), expected)
}
