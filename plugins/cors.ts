import fastifyCors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isOriginAllowed } from '../src/mcp/http/origin-policy.js'

const MCP_PATH = '/mcp'

/** What a browser MCP client sends: its key, the session and protocol headers, and the id to resume a stream from. */
const ALLOWED_HEADERS = ['Accept', 'Authorization', 'Content-Type', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID']
/**
 * What it must read back: the session id of an initialize answer, the protocol version in force,
 * and a 401's challenge.
 */
const EXPOSED_HEADERS = ['Mcp-Session-Id', 'MCP-Protocol-Version', 'WWW-Authenticate']

/**
 * CORS for browser MCP clients (the Inspector in direct mode, web apps): `/mcp` answers preflights
 * and shares its answers with the origins the MCP route itself lets in (`ALLOWED_ORIGINS`, the same
 * rule), and with no other; every other path, and every other origin, gets no CORS header at all.
 */
async function corsPlugin (fastify: FastifyInstance) {
  const { ALLOWED_ORIGINS } = fastify.config
  await fastify.register(fastifyCors, {
    delegator (request: FastifyRequest, answer) {
      const { origin } = request.headers
      const shared = origin !== undefined && isMcpPath(request.url) && isOriginAllowed(origin, ALLOWED_ORIGINS)
      answer(null, shared
        ? { origin, methods: ['GET', 'POST', 'DELETE'], allowedHeaders: ALLOWED_HEADERS, exposedHeaders: EXPOSED_HEADERS }
        : { origin: false })
    },
  })
}

function isMcpPath (url: string): boolean {
  const queryStart = url.indexOf('?')
  return (queryStart === -1 ? url : url.slice(0, queryStart)) === MCP_PATH
}

export default fp(corsPlugin, { name: 'cors', dependencies: ['config'] })
