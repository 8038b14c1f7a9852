import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ResponseOwners } from '../src/shared-state/response-owners.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Which client created each stored response; consulted only with client keys. */
    responseOwners: ResponseOwners
  }
}

/** The clients' stored responses, bound to them: in Redis when REDIS_URL is set, so every replica knows. */
async function responseOwnersPlugin (fastify: FastifyInstance) {
  fastify.decorate('responseOwners', new ResponseOwners(fastify.redis))
}

export default fp(responseOwnersPlugin, { name: 'response-owners', dependencies: ['redis'] })
