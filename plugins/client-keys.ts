import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type Client, ClientKeys } from '../src/access/client-keys.js'
import { loadClientConfig } from '../src/access/client-config.js'
import { reloadOnHangup } from '../src/reload-on-hangup.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The clients that may call /mcp; undefined when none is configured and the router runs open. */
    clientKeys: ClientKeys | undefined
  }
  interface FastifyRequest {
    /** The client whose key the request carried (set by the MCP route's authentication). */
    client: Client | undefined
    /**
     * The OAuth principal whose access token the request carried, when it carried one
     * (OAUTH_PRINCIPAL_CLAIM's value).
     */
    principal: string | undefined
  }
}

export interface ClientKeysPluginOptions {
  /** How the router serves MCP: over stdio no key travels, so keys (or their absence) are not announced. */
  transport: 'http' | 'stdio'
}

/** Client keys (CLIENT_KEYS_FILE, CLIENT_KEYS): who may call /mcp, with what limits; SIGHUP reads the file again. */
async function clientKeysPlugin (fastify: FastifyInstance, { transport }: ClientKeysPluginOptions) {
  const { clients } = fastify.config
  if (transport === 'stdio') {
    fastify.log.info('MCP over stdio serves the client that started this process, without a client key: CLIENT_KEYS_FILE, CLIENT_KEYS and OAuth apply to /mcp over HTTP only')
  } else if (clients.length === 0) {
    fastify.log.warn('No client keys are configured (CLIENT_KEYS_FILE, CLIENT_KEYS): anyone who reaches /mcp can spend the upstream keys. Configure keys, or set AUTH_REQUIRED=true to refuse to start without them.')
  } else {
    fastify.log.info({ clients: clients.map((client) => client.name) }, `${clients.length} client key${clients.length === 1 ? '' : 's'} configured: /mcp needs a Bearer key`)
  }
  const keys = clients.length > 0 ? new ClientKeys(clients) : undefined
  fastify.decorate('clientKeys', keys)
  fastify.decorateRequest('client', undefined)
  fastify.decorateRequest('principal', undefined)

  const { config, log } = fastify
  // A router started open stays open: keys appearing in a reload would lock out its callers.
  if (!keys || !config.CLIENT_KEYS_FILE) return
  reloadOnHangup(fastify, async () => {
    try {
      // The file's schema wants at least one client: a reload cannot open the router.
      const reloaded = await loadClientConfig(config)
      keys.replace(reloaded)
      log.info({ reason: 'SIGHUP', clients: reloaded.map((client) => client.name) }, 'client keys reloaded')
    } catch (err) {
      log.error({ reason: 'SIGHUP' }, `client keys not reloaded, the previous ones stay: ${err instanceof Error ? err.message : String(err)}`)
    }
  })
}

export default fp(clientKeysPlugin, { name: 'client-keys', dependencies: ['config'] })
