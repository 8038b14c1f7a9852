import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

const ProtectedResourceMetadata = Type.Object({
  resource: Type.String({ description: 'The protected resource: the router\'s public /mcp URL (PUBLIC_URL).' }),
  authorization_servers: Type.Array(Type.String(), { description: 'The issuer whose access tokens the resource accepts (OAUTH_ISSUER).' }),
  scopes_supported: Type.Array(Type.String(), { description: 'OAUTH_REQUIRED_SCOPES and the scopes of OAUTH_TOOL_SCOPES.' }),
  bearer_methods_supported: Type.Array(Type.Literal('header')),
  resource_name: Type.String(),
})

/**
 * RFC 9728 protected resource metadata, which MCP clients read (from the 401's `resource_metadata`,
 * or at the well-known path with or without the resource's path) to find the authorization server.
 * Served only when OAUTH_ISSUER is set.
 */
export default async function oauthMetadataRoutes (fastify: FastifyInstance) {
  const { oauth } = fastify.config
  if (!oauth) return
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const metadata = {
    resource: oauth.resource,
    authorization_servers: [oauth.issuer],
    scopes_supported: [...new Set([...oauth.requiredScopes, ...Object.values(oauth.toolScopes)])],
    bearer_methods_supported: ['header' as const],
    resource_name: 'MCP OpenAI Router',
  }
  const path = new URL(oauth.resourceMetadataUrl).pathname
  for (const url of new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', path])) {
    app.get(url, { schema: { response: { 200: ProtectedResourceMetadata } } }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata))
  }
}
