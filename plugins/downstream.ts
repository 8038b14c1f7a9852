import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Downstream } from '../src/downstream/downstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The downstream MCP servers whose tools `chat` runs for the model (empty when none is configured). */
    downstream: Downstream
  }
}

async function downstreamPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  const downstream = await Downstream.create(config.DOWNSTREAM_MCP, config.DOWNSTREAM_RECONNECT_MS, fastify.log)
  fastify.decorate('downstream', downstream)
  // Each server gets one attempt before the router serves; one that is down keeps retrying without blocking it.
  await downstream.start()
  fastify.addHook('onClose', async () => { await downstream.close() })
}

export default fp(downstreamPlugin, { name: 'downstream', dependencies: ['config'] })
