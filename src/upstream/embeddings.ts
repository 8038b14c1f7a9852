import type OpenAI from 'openai'
import { invalidResponse } from './errors.js'
import { type UpstreamRequestContext, upstreamRequestOptions } from './request-options.js'
import { reportedUsage } from './token-usage.js'

export interface EmbeddingRequest {
  model: string
  input: string | string[]
  dimensions?: number
}

export interface EmbeddingResult {
  model: string
  /** One vector per input, in input order. */
  vectors: number[][]
  usage?: { inputTokens: number, totalTokens: number }
}

export async function createEmbeddings (openai: OpenAI, { model, input, dimensions }: EmbeddingRequest, context: UpstreamRequestContext): Promise<EmbeddingResult> {
  // The SDK asks for base64 on the wire and decodes it: a quarter of the bytes of JSON numbers.
  const response = await openai.embeddings.create({ model, input, ...(dimensions !== undefined && { dimensions }) }, upstreamRequestOptions(context))
  if (!Array.isArray(response?.data)) throw invalidResponse('an embeddings answer without `data`')
  const vectors = [...response.data]
    .sort((a, b) => a.index - b.index)
    .map((item) => Array.from(item.embedding))
  const usage = reportedUsage(response.usage?.prompt_tokens, 0, response.usage?.total_tokens)
  return {
    model: response.model ?? model,
    vectors,
    ...(usage && { usage: { inputTokens: usage.inputTokens, totalTokens: usage.totalTokens } }),
  }
}
