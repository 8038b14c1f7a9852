import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { AccessTokens } from '../src/access/oauth.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** OAuth access tokens /mcp accepts beside client keys (OAUTH_ISSUER); undefined: client keys only. */
    accessTokens: AccessTokens | undefined
  }
}

export interface AccessTokensPluginOptions {
  /** The time the key set's cooldown goes by; unset: the real one. */
  clock?: () => number
}

/**
 * The router as an OAuth 2.1 resource server: JWT access tokens of OAUTH_ISSUER, each principal
 * mapped to a client entry.
 */
async function accessTokensPlugin (fastify: FastifyInstance, { clock }: AccessTokensPluginOptions) {
  const { oauth } = fastify.config
  const { clientKeys } = fastify
  if (!oauth || !clientKeys) {
    fastify.decorate('accessTokens', undefined)
    return
  }
  fastify.log.info({ issuer: oauth.issuer, resource: oauth.resource, audiences: oauth.audiences, principalClaim: oauth.principalClaim }, '/mcp accepts access tokens of the OAuth issuer beside client keys')
  // Loaded only when configured, with its JOSE library.
  const { AccessTokens } = await import('../src/access/oauth.js')
  // Looked up per token: a SIGHUP reload of the clients file applies to the next token.
  fastify.decorate('accessTokens', new AccessTokens(oauth, (name) => clientKeys.named(name), clock))
}

export default fp(accessTokensPlugin, { name: 'access-tokens', dependencies: ['config', 'client-keys'] })
