import type { AuthenticationFailure } from './client-keys.js'

export interface BearerChallenge {
  error: AuthenticationFailure['error'] | 'insufficient_scope'
  description: string
  scope?: string
}

/**
 * RFC 6750's challenge of a 401 or 403: the scheme, and what was wrong with the credentials sent;
 * with OAuth, RFC 9728's resource_metadata tells the client where to find the authorization server.
 */
export function wwwAuthenticate (
  { error, description, scope }: BearerChallenge,
  resourceMetadata: string | undefined
): string {
  const params = [
    'realm="mcp-openai-router"',
    ...(resourceMetadata ? [`resource_metadata=${quoted(resourceMetadata)}`] : []),
    ...(error ? [`error=${quoted(error)}`, `error_description=${quoted(description)}`] : []),
    ...(scope ? [`scope=${quoted(scope)}`] : []),
  ]
  return `Bearer ${params.join(', ')}`
}

/**
 * An HTTP quoted-string (RFC 9110), as the MCP SDK's own challenges quote theirs: `\` and `"`
 * escaped, and anything outside printable ASCII a space. A description can quote a token's claims,
 * and a CR or LF there would make Node refuse the header (a 500 instead of the 401).
 */
function quoted (value: string): string {
  return `"${value.replaceAll(/[\\"]/g, '\\$&').replaceAll(/[^\x20-\x7E]/g, ' ')}"`
}
