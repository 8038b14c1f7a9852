import type { TokenUsage } from './chat-types.js'

/** A token count as an upstream reported it: a non-negative integer, or unknown (`"1e9"`, `1.5`, `-3`). */
export function tokenCount (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined
}

/**
 * The usage an upstream reported, where its counts are counts; otherwise unknown, never a failed
 * answer. A missing or wrong total is the sum of the other two.
 */
export function reportedUsage (input: unknown, output: unknown, total: unknown): TokenUsage | undefined {
  const inputTokens = tokenCount(input)
  const outputTokens = tokenCount(output)
  if (inputTokens === undefined || outputTokens === undefined) return undefined
  return { inputTokens, outputTokens, totalTokens: tokenCount(total) ?? inputTokens + outputTokens }
}
