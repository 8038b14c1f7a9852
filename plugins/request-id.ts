import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { REQUEST_ID_HEADER } from '../src/request-id.js'

/** Every answer names its request id (Fastify's `genReqId`, `requestIdFor`), so a client can quote it. */
async function requestIdPlugin (fastify: FastifyInstance) {
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
}

export default fp(requestIdPlugin, { name: 'request-id' })
