import type { Client } from './client-keys.js'

/** The scope `tool` needs (a map of tool to scope), if `client` holds a token without it; client keys pass. */
export function missingToolScope (
  toolScopes: Record<string, string>,
  client: Client | undefined,
  tool: string
): string | undefined {
  const scope = toolScopes[tool]
  if (scope === undefined || client?.scopes === undefined || client.scopes.has(scope)) return undefined
  return scope
}
