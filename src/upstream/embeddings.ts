import type OpenAI from 'openai'
import { checkedEmbeddings, jsonAnswer } from './answer-shapes.js'
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

export async function createEmbeddings (
  openai: OpenAI,
  { model, input, dimensions }: EmbeddingRequest,
  context: UpstreamRequestContext
): Promise<EmbeddingResult> {
  // base64 on the wire: a quarter of the bytes of JSON numbers. Asked for explicitly, the SDK
  // leaves the answer to the router, which checks it before decoding.
  const call = openai.embeddings.create({ model, input, encoding_format: 'base64', ...(dimensions !== undefined && { dimensions }) }, upstreamRequestOptions(context))
  const response = checkedEmbeddings(await jsonAnswer(call))
  const vectors = [...response.data]
    .sort((a, b) => a.index - b.index)
    .map((item) => vectorOf(item.embedding))
  const usage = reportedUsage(response.usage?.prompt_tokens, 0, response.usage?.total_tokens)
  return {
    model: response.model ?? model,
    vectors,
    ...(usage && { usage: { inputTokens: usage.inputTokens, totalTokens: usage.totalTokens } }),
  }
}

/** One vector: base64 little-endian 32-bit floats, as OpenAI sends them, or plain numbers. */
function vectorOf (embedding: string | number[]): number[] {
  if (Array.isArray(embedding)) return embedding
  const bytes = Buffer.from(embedding, 'base64')
  if (bytes.length % Float32Array.BYTES_PER_ELEMENT !== 0) throw invalidResponse(`an embedding of ${bytes.length} bytes, not a whole number of 32-bit floats`)
  // Copied out: a decoded Buffer may sit at an offset of a shared pool that is no multiple of 4.
  return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)))
}
