import { ConfigError } from '../errors.js'
import type { ClientConfig } from './client-config.js'

/** How /mcp accepts OAuth 2.1 access tokens (OAUTH_*): the router as a resource server, which issues none. */
export interface OAuthConfig {
  /** The protected resource: PUBLIC_URL + /mcp, as its metadata document names it. */
  resource: string
  /** Where that document is served (RFC 9728), for `WWW-Authenticate: Bearer resource_metadata`. */
  resourceMetadataUrl: string
  issuer: string
  /** The `aud` values a token may carry one of: tokens meant for another service are refused. */
  audiences: string[]
  jwksUrl: string | undefined
  algorithms: string[]
  principalClaim: string
  defaultClient: string | undefined
  requiredScopes: string[]
  /** The scope each gated tool needs, to see it in tools/list and to call it. */
  toolScopes: Record<string, string>
  /** The scope that lets a token read GET /status; undefined: no token does. */
  statusScope: string | undefined
  clockSkewS: number
  /** The most bytes read of the issuer's discovery document or JWKS. */
  maxDocumentBytes: number
}

export interface OAuthEnvironment {
  PUBLIC_URL?: string | undefined
  OAUTH_ISSUER?: string | undefined
  OAUTH_AUDIENCE: string
  OAUTH_JWKS_URL?: string | undefined
  OAUTH_ALGORITHMS: string
  OAUTH_PRINCIPAL_CLAIM: string
  OAUTH_DEFAULT_CLIENT?: string | undefined
  OAUTH_REQUIRED_SCOPES: string
  OAUTH_TOOL_SCOPES: string
  OAUTH_STATUS_SCOPE?: string | undefined
  OAUTH_CLOCK_SKEW_S: number
  OAUTH_MAX_DOCUMENT_BYTES: number
}

// Asymmetric only: `none` accepts anything, and an HS* key would have to be the JWKS's public material.
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

const splitScopes = (value: string) => value.split(/[\s,]+/).filter(Boolean)

/** The OAuth settings, checked together; undefined when OAUTH_ISSUER is unset and /mcp takes client keys only. */
export function parseOAuthConfig (env: OAuthEnvironment, clients: ClientConfig[]): OAuthConfig | undefined {
  const { PUBLIC_URL, OAUTH_ISSUER } = env
  if (!OAUTH_ISSUER) {
    const stray = (['OAUTH_JWKS_URL', 'OAUTH_DEFAULT_CLIENT', 'OAUTH_STATUS_SCOPE'] as const).find((name) => env[name] !== undefined) ??
      (['OAUTH_AUDIENCE', 'OAUTH_REQUIRED_SCOPES', 'OAUTH_TOOL_SCOPES'] as const).find((name) => env[name].trim() !== '')
    if (stray) throw new ConfigError(`${stray} needs OAUTH_ISSUER (the authorization server whose tokens /mcp accepts)`)
    return undefined
  }
  if (!PUBLIC_URL) throw new ConfigError('OAUTH_ISSUER needs PUBLIC_URL (the router\'s public URL, which names the protected resource)')
  if (clients.length === 0) {
    throw new ConfigError('OAUTH_ISSUER needs client entries (CLIENT_KEYS_FILE) for principals to map to (OAUTH_PRINCIPAL_CLAIM, OAUTH_DEFAULT_CLIENT)')
  }
  const base = new URL(PUBLIC_URL)
  if (base.search || base.hash) throw new ConfigError(`PUBLIC_URL must have no query or fragment (got "${PUBLIC_URL}")`)
  const path = base.pathname.replace(/\/+$/, '')
  const resource = `${base.origin}${path}/mcp`
  const algorithms = env.OAUTH_ALGORITHMS.split(',').map((name) => name.trim()).filter(Boolean)
  const unsafe = algorithms.find((name) => !ASYMMETRIC_ALGORITHMS.has(name))
  if (algorithms.length === 0 || unsafe !== undefined) {
    throw new ConfigError(`OAUTH_ALGORITHMS must list asymmetric JWS algorithms (${[...ASYMMETRIC_ALGORITHMS].join(', ')})${unsafe === undefined ? '' : `; "${unsafe}" is not one`}`)
  }
  const defaultClient = env.OAUTH_DEFAULT_CLIENT
  if (defaultClient !== undefined && !clients.some((client) => client.name === defaultClient)) {
    throw new ConfigError(`OAUTH_DEFAULT_CLIENT names "${defaultClient}", which is not a client entry (CLIENT_KEYS_FILE, CLIENT_KEYS)`)
  }
  const requiredScopes = splitScopes(env.OAUTH_REQUIRED_SCOPES)
  const toolScopes = parseToolScopes(env.OAUTH_TOOL_SCOPES)
  const statusScope = env.OAUTH_STATUS_SCOPE
  const scopes = [...requiredScopes, ...Object.values(toolScopes), ...(statusScope === undefined ? [] : [statusScope])]
  const badScope = scopes.find((scope) => !SCOPE_TOKEN.test(scope))
  if (badScope !== undefined) throw new ConfigError(`"${badScope}" is not an OAuth scope (OAUTH_REQUIRED_SCOPES, OAUTH_TOOL_SCOPES, OAUTH_STATUS_SCOPE)`)
  const audiences = env.OAUTH_AUDIENCE.split(',').map((audience) => audience.trim()).filter(Boolean)
  return {
    resource,
    resourceMetadataUrl: `${base.origin}/.well-known/oauth-protected-resource${path}/mcp`,
    issuer: OAUTH_ISSUER,
    audiences: audiences.length > 0 ? audiences : [resource],
    jwksUrl: env.OAUTH_JWKS_URL,
    algorithms,
    principalClaim: env.OAUTH_PRINCIPAL_CLAIM,
    defaultClient,
    requiredScopes,
    toolScopes,
    statusScope,
    clockSkewS: env.OAUTH_CLOCK_SKEW_S,
    maxDocumentBytes: env.OAUTH_MAX_DOCUMENT_BYTES,
  }
}

function parseToolScopes (json: string): Record<string, string> {
  if (!json.trim()) return {}
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    value = undefined
  }
  const valid = typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.values(value).every((scope) => typeof scope === 'string' && scope !== '')
  if (!valid) throw new ConfigError('OAUTH_TOOL_SCOPES must be a JSON object of tool name to scope, e.g. {"generate_image": "mcp:images"}')
  return value as Record<string, string>
}
