import type OpenAI from 'openai'

export interface UpstreamRequestContext {
  signal: AbortSignal
  /** The router's id for the MCP call, sent so that upstream logs can be matched with ours. */
  requestId: string
}

/** Options every upstream call carries: cancellation and OpenAI's request-correlation header. */
export function upstreamRequestOptions ({ signal, requestId }: UpstreamRequestContext): OpenAI.RequestOptions {
  return { signal, headers: { 'X-Client-Request-Id': requestId } }
}
