import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { InFlightCalls } from '../src/mcp/in-flight-calls.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Tool calls running now: shutdown waits for them, up to SHUTDOWN_GRACE_MS, then stops the rest. */
    inFlightCalls: InFlightCalls
  }
}

async function inFlightCallsPlugin (fastify: FastifyInstance) {
  const calls = new InFlightCalls()
  fastify.decorate('inFlightCalls', calls)
  // preClose runs before the listener closes, while calls can still send their results.
  fastify.addHook('preClose', async () => {
    const { finished, aborted } = await calls.drain(fastify.config.SHUTDOWN_GRACE_MS)
    if (finished + aborted > 0) fastify.log.info({ finished, aborted }, 'in-flight tool calls drained')
  })
}

export default fp(inFlightCallsPlugin, { name: 'in-flight-calls', dependencies: ['config'] })
