import { createHash } from 'node:crypto'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { CacheUse, CallRecord } from '../observability/call-record.js'
import { StringEnum } from '../schemas.js'
import type { ResponseCache, StoredAnswerCheck } from '../shared-state/response-cache.js'

export type CacheMode = 'no-store' | 'default' | 'force'
export type CacheOutcome = CacheUse

/** The `cache` argument of the tools whose answers are cached. */
export const CacheArgument = Type.Optional(StringEnum(['no-store', 'default', 'force'] as const, {
  description: 'Response cache: "default" serves and stores exact repeats of deterministic requests (temperature 0, embeddings); "force" does so for any request; "no-store" neither reads nor writes it.',
}))

/** The `structuredContent` field saying where the answer came from. */
export const CacheOutput = {
  cache: Type.Optional(StringEnum(['hit', 'miss', 'bypass'] as const, { description: 'hit: served from the response cache, no tokens spent; miss: answered by the model and stored; bypass: the cache was not used.' })),
}

/** One kind of answer the cache keeps: how a stored one is recognised, and which model gave it. */
export interface CachedAnswers<Answer> {
  isStored: StoredAnswerCheck<Answer>
  modelOf: (answer: Answer) => string
}

// Stored answers are checked whole when they are read back: anything else under their key is a miss.
const storedAnswerAjv = new Ajv({ strict: false })

/** The answers of one tool as the cache keeps them: `shape` is what a stored one must look like. */
export function cachedAnswers<Shape extends TSchema> (
  shape: Shape,
  modelOf: (answer: Static<Shape>) => string
): CachedAnswers<Static<Shape>> {
  return { isStored: storedAnswerAjv.compile<Static<Shape>>(shape), modelOf }
}

export interface CachedCall<Answer> {
  answers: CachedAnswers<Answer>
  mode: CacheMode | undefined
  /** Whether the same request always gets the same answer, so "default" may cache it. */
  deterministic: boolean
  /** Everything that changes the answer: the provider, the resolved model, the messages, every parameter. */
  request: unknown
  /** Whether an answer is a whole one worth keeping (failures are thrown, and never kept). */
  complete: (answer: Answer) => boolean
  /** Gives a cached answer to a client that asked for progress, as one notification. */
  replay?: (answer: Answer) => void
}

/** An answer, and whether the cache gave it, stored it, or was not used. */
export interface Cached<Answer> {
  answer: Answer
  cache: CacheOutcome
}

/**
 * A tool's answer through the response cache (undefined when CACHE_TTL_S is 0): an exact repeat
 * of a cacheable request is answered from it without any upstream call (and spends no tokens); a
 * new complete answer is stored.
 */
export async function cachedCall<Answer> (
  cache: ResponseCache | undefined,
  record: Pick<CallRecord, 'cacheUsed' | 'answered'>,
  { answers, mode = 'default', deterministic, request, complete, replay }: CachedCall<Answer>,
  ask: () => Promise<Answer>
): Promise<Cached<Answer>> {
  const use = cache !== undefined && (mode === 'force' || (mode === 'default' && deterministic))
  if (!use) {
    record.cacheUsed('bypass')
    return { answer: await ask(), cache: 'bypass' }
  }
  const key = createHash('sha256').update(canonicalJson(request)).digest('hex')
  const cached = await cache.get(key, answers.isStored)
  if (cached) {
    record.cacheUsed('hit')
    record.answered(answers.modelOf(cached))
    replay?.(cached)
    return { answer: cached, cache: 'hit' }
  }
  record.cacheUsed('miss')
  const answer = await ask()
  if (complete(answer)) await cache.set(key, answer)
  return { answer, cache: 'miss' }
}

/** JSON with object keys sorted at every level: equal requests give equal text whatever order they were built in. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => item && typeof item === 'object' && !Array.isArray(item)
    ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
    : item)
}
