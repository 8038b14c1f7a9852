import { createHash } from 'node:crypto'
import type { CallToolResult } from '@modelcontextprotocol/server'
import { Type } from '@sinclair/typebox'
import { StringEnum } from '../schemas.js'
import type { ToolContext } from './tool.js'

export type CacheMode = 'no-store' | 'default' | 'force'
export type CacheOutcome = 'hit' | 'miss' | 'bypass'

/** The `cache` argument of the tools whose answers are cached. */
export const CacheArgument = Type.Optional(StringEnum(['no-store', 'default', 'force'] as const, {
  description: 'Response cache: "default" serves and stores exact repeats of deterministic requests (temperature 0, embeddings); "force" does so for any request; "no-store" neither reads nor writes it.',
}))

/** The `structuredContent` field saying where the answer came from. */
export const CacheOutput = {
  cache: Type.Optional(StringEnum(['hit', 'miss', 'bypass'] as const, { description: 'hit: served from the response cache, no tokens spent; miss: answered by the model and stored; bypass: the cache was not used.' })),
}

export interface CachedCall {
  mode: CacheMode | undefined
  /** Whether the same request always gets the same answer, so "default" may cache it. */
  deterministic: boolean
  /** Everything that changes the answer: the provider, the resolved model, the messages, every parameter. */
  request: unknown
  /** Whether a result is a whole answer worth keeping; errors are never kept. */
  complete: (result: CallToolResult) => boolean
  /** Gives a cached answer to a client that asked for progress, as one notification. */
  replay?: (result: CallToolResult) => void
}

/**
 * A tool call through the response cache: an exact repeat of a cacheable request is answered from
 * it without any upstream call (and spends no tokens); a new complete answer is stored.
 */
export async function cachedCall (context: ToolContext, { mode = 'default', deterministic, request, complete, replay }: CachedCall, call: () => Promise<CallToolResult>): Promise<CallToolResult> {
  const { cache, record } = context
  const use = cache !== undefined && (mode === 'force' || (mode === 'default' && deterministic))
  if (!use) {
    record.cache = 'bypass'
    return withCacheOutcome(await call(), 'bypass')
  }
  const key = createHash('sha256').update(canonicalJson(request)).digest('hex')
  const cached = await cache.get(key)
  if (cached) {
    record.cache = 'hit'
    const model = (cached.structuredContent as { model?: unknown } | undefined)?.model
    if (typeof model === 'string') record.answered(model)
    replay?.(cached)
    return withCacheOutcome(cached, 'hit')
  }
  record.cache = 'miss'
  const result = await call()
  if (!result.isError && complete(result)) await cache.set(key, result)
  return withCacheOutcome(result, 'miss')
}

function withCacheOutcome (result: CallToolResult, cache: CacheOutcome): CallToolResult {
  return result.structuredContent ? { ...result, structuredContent: { ...result.structuredContent, cache } } : result
}

/** JSON with object keys sorted at every level: equal requests give equal text whatever order they were built in. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => item && typeof item === 'object' && !Array.isArray(item)
    ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : item)
}
