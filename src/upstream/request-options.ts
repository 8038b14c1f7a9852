import type OpenAI from 'openai'
import type { CallSignalOption } from './upstream-fetch.js'

export interface UpstreamRequestContext {
  signal: AbortSignal
  /** The router's id for the MCP call, sent so that upstream logs can be matched with ours. */
  requestId: string
}

/**
 * Options every upstream call carries: cancellation and OpenAI's request-correlation header. The
 * signal goes to the router's fetch, not to the SDK, which would compose it with `AbortSignal.any`
 * or weak references (see {@link CallSignalOption}).
 */
export function upstreamRequestOptions ({ signal, requestId }: UpstreamRequestContext): OpenAI.RequestOptions {
  const fetchOptions: CallSignalOption = { callSignal: signal }
  return { fetchOptions: fetchOptions as OpenAI.RequestOptions['fetchOptions'], headers: { 'X-Client-Request-Id': requestId } }
}
