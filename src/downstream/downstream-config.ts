import { type Static, Type } from '@sinclair/typebox'

export const DEFAULT_DOWNSTREAM_TIMEOUT_MS = 30_000

export const DownstreamEntrySchema = Type.Object({
  // No "__": it separates the server from the tool in the function names the model sees.
  name: Type.String({ pattern: '^[a-zA-Z0-9](?:[a-zA-Z0-9-]|_(?!_)){0,30}$', title: 'letters, digits, - or single _ (at most 31)' }),
  url: Type.String({ format: 'http-url', title: 'an http:// or https:// URL' }),
  tokenEnv: Type.Optional(Type.String({ minLength: 1, description: 'Environment variable holding the bearer token.' })),
  tokenFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the bearer token.' })),
  timeoutMs: Type.Integer({ minimum: 1, default: DEFAULT_DOWNSTREAM_TIMEOUT_MS, description: 'Limit for one tool call.' }),
  tools: Type.Array(Type.String({ minLength: 1 }), { default: ['*'], description: 'Globs of the tool names to offer the model.' }),
}, { additionalProperties: false })

export const DownstreamListSchema = Type.Array(DownstreamEntrySchema)

export type DownstreamEntry = Static<typeof DownstreamEntrySchema>

/** A downstream MCP server as the router uses it: its token read, never written in the configuration. */
export type DownstreamConfig = Omit<DownstreamEntry, 'tokenEnv' | 'tokenFile'> & { token?: string }
