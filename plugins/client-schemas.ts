import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { SchemaChecker } from '../src/mcp/schemas/schema-checker.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Clients' response_format schemas, compiled and checked in a worker thread within the SCHEMA_* limits. */
    clientSchemas: SchemaChecker
  }
}

/**
 * The schema checker: SCHEMA_MAX_BYTES, SCHEMA_MAX_NODES, SCHEMA_MAX_DEPTH, SCHEMA_TIMEOUT_MS,
 * SCHEMA_CACHE_MAX_BYTES, SCHEMA_MAX_JOBS_PER_CLIENT, SCHEMA_MAX_QUEUED_JOBS. Its worker starts
 * with the first schema.
 */
async function clientSchemasPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  const checker = new SchemaChecker({
    maxBytes: config.SCHEMA_MAX_BYTES,
    maxNodes: config.SCHEMA_MAX_NODES,
    maxDepth: config.SCHEMA_MAX_DEPTH,
    timeoutMs: config.SCHEMA_TIMEOUT_MS,
    cacheMaxBytes: config.SCHEMA_CACHE_MAX_BYTES,
    maxJobsPerClient: config.SCHEMA_MAX_JOBS_PER_CLIENT,
    maxQueuedJobs: config.SCHEMA_MAX_QUEUED_JOBS,
  })
  fastify.decorate('clientSchemas', checker)
  fastify.addHook('onClose', async () => checker.close())
}

export default fp(clientSchemasPlugin, { name: 'client-schemas', dependencies: ['config'] })
