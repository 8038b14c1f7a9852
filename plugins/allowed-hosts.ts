import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isHostAllowed } from '../src/allowed-hosts.js'
import { JsonRpcErrorCode, jsonRpcError } from '../src/mcp/http/json-rpc.js'

/**
 * DNS-rebinding protection for every route, not only /mcp: a page on a name of the attacker's that
 * resolves to the router could otherwise read /ready and /metrics. ALLOWED_HOSTS decides; IP
 * literals pass (see {@link isHostAllowed}). /mcp refusals are JSON-RPC errors, as its clients expect.
 */
async function allowedHostsPlugin (fastify: FastifyInstance) {
  const { ALLOWED_HOSTS } = fastify.config
  if (ALLOWED_HOSTS.length === 0) return
  fastify.addHook('onRequest', async (request, reply) => {
    const { host } = request.headers
    if (isHostAllowed(host, ALLOWED_HOSTS)) return
    const message = `Forbidden: Host ${(host ?? '(none)').slice(0, 200)} is not allowed (ALLOWED_HOSTS)`
    request.log.info({ host: host?.slice(0, 200) }, 'request refused: Host outside ALLOWED_HOSTS')
    return reply.code(403).send(request.url === '/mcp' || request.url.startsWith('/mcp?') ? jsonRpcError(JsonRpcErrorCode.ServerError, message) : { error: message })
  })
}

export default fp(allowedHostsPlugin, { name: 'allowed-hosts', dependencies: ['config'] })
