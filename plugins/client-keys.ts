import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type Client, ClientKeys } from '../src/access/client-keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The clients that may call /mcp; undefined when none is configured and the router runs open. */
    clientKeys: ClientKeys | undefined
  }
  interface FastifyRequest {
    /** The client whose key the request carried (set by the MCP route's authentication). */
    client: Client | undefined
  }
}

/** Client keys (CLIENT_KEYS_FILE, CLIENT_KEYS): who may call /mcp, with what limits. */
async function clientKeysPlugin (fastify: FastifyInstance) {
  const { clients } = fastify.config
  if (clients.length === 0) {
    fastify.log.warn('No client keys are configured (CLIENT_KEYS_FILE, CLIENT_KEYS): anyone who reaches /mcp can spend the upstream keys. Configure keys, or set AUTH_REQUIRED=true to refuse to start without them.')
  } else {
    fastify.log.info({ clients: clients.map((client) => client.name) }, `${clients.length} client key${clients.length === 1 ? '' : 's'} configured: /mcp needs a Bearer key`)
  }
  fastify.decorate('clientKeys', clients.length > 0 ? new ClientKeys(clients) : undefined)
  fastify.decorateRequest('client', undefined)
}

export default fp(clientKeysPlugin, { name: 'client-keys', dependencies: ['config'] })
