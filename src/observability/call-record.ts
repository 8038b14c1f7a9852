import { type Context, ROOT_CONTEXT } from '@opentelemetry/api'
import type { ToolErrorCode } from '../errors.js'
import type { TokenUsage } from '../upstream/chat-types.js'
import type { ImageOrder } from './prices.js'

/** Tokens an upstream call reported; embeddings have no output tokens. */
export type SpentTokens = Pick<TokenUsage, 'inputTokens'> & Partial<Pick<TokenUsage, 'outputTokens'>>

export type CallOutcome = 'ok' | 'tool_error'

/** One upstream call a tool call made (a retry is part of it): where it went, how long it took, and `ok` or the error code. */
export interface UpstreamResult {
  provider: string
  /** Undefined for calls that name no model (fetching or cancelling a stored response). */
  model: string | undefined
  outcome: 'ok' | ToolErrorCode
  durationMs: number
}

/** One provider and model a call was sent to, and how that went (`ok` or the error code). */
export interface RouteAttempt {
  provider: string
  model: string
  outcome: 'ok' | ToolErrorCode
}

/**
 * What one tool call did, gathered while it runs. Its log line, its metrics and its trace are all
 * written from this one record, so they always agree.
 */
export class CallRecord {
  modelRequested: string | undefined
  modelAnswered: string | undefined
  /** The provider of the last answer. */
  providerAnswered: string | undefined
  /** Every provider and model tried, fallbacks included, in order. */
  readonly attempts: RouteAttempt[] = []
  /** Every upstream call, in order, with its time: what the status page's error rates and latencies are made of. */
  readonly upstream: UpstreamResult[] = []
  inputTokens = 0
  outputTokens = 0
  /** The images an image model made, which models billed by the image are priced by. */
  images: ImageOrder | undefined
  /** Whether some of the tokens are the router's estimate rather than the upstream's report (a stream cut off before its usage came). */
  tokensEstimated = false
  upstreamMs = 0
  /** Upstream attempts repeated after a transient failure. */
  retries = 0
  durationMs = 0
  outcome: CallOutcome | undefined
  errorCode: ToolErrorCode | undefined

  /** The client that made the call, by name; undefined when the router runs open. */
  client: string | undefined
  /** The OAuth principal the call came from, when it came with an access token. */
  principal: string | undefined
  /** Whether the response cache answered the call, stored its answer, or was not used; undefined for tools without a cache. */
  cache: 'hit' | 'miss' | 'bypass' | undefined

  /** @param traceContext the trace the call's upstream spans belong to (the MCP message's span). */
  constructor (readonly tool: string, readonly traceContext: Context = ROOT_CONTEXT) {}

  /** The upstream's answer: the model that actually answered and, for calls that spend tokens, what they spent. */
  answered (model: string, usage?: SpentTokens): void {
    this.modelAnswered = model
    if (!usage) return
    this.inputTokens += usage.inputTokens
    this.outputTokens += usage.outputTokens ?? 0
  }

  /** Tokens the router estimated for an answer whose usage never came (a stream cut off before its last event). */
  estimated (usage: SpentTokens): void {
    this.tokensEstimated = true
    this.inputTokens += usage.inputTokens
    this.outputTokens += usage.outputTokens ?? 0
  }

  upstreamFinished (result: UpstreamResult): void {
    this.upstream.push(result)
    this.upstreamMs += result.durationMs
  }

  /** Who answered and what was tried so far, as the call's answer tells its client. */
  routing (): { provider?: string, attempts: RouteAttempt[] } {
    return { ...(this.providerAnswered && { provider: this.providerAnswered }), attempts: [...this.attempts] }
  }

  get upstreamCalls (): number {
    return this.upstream.length
  }

  finished (outcome: CallOutcome, durationMs: number, errorCode?: ToolErrorCode): void {
    this.outcome = outcome
    this.durationMs = durationMs
    this.errorCode = errorCode
  }

  /** The record as log fields; what did not happen (no model, no upstream call) is left out. */
  logFields (): Record<string, unknown> {
    return {
      tool: this.tool,
      ...(this.modelRequested && { modelRequested: this.modelRequested }),
      ...(this.modelAnswered && { modelAnswered: this.modelAnswered }),
      ...(this.providerAnswered && { provider: this.providerAnswered }),
      // Only a call that went to more than one place has a story worth a field: "openai/gpt-4.1:upstream_unavailable local/llama3:ok".
      ...(this.attempts.some((attempt) => attempt.outcome !== 'ok') && { attempts: this.attempts.map(({ provider, model, outcome }) => `${provider}/${model}:${outcome}`).join(' ') }),
      ...(this.upstreamCalls > 0 && { upstreamCalls: this.upstreamCalls, upstreamMs: Math.round(this.upstreamMs) }),
      ...(this.retries > 0 && { retries: this.retries }),
      ...((this.inputTokens > 0 || this.outputTokens > 0) && { inputTokens: this.inputTokens, outputTokens: this.outputTokens }),
      ...(this.tokensEstimated && { tokensEstimated: true }),
      ...(this.cache && { cache: this.cache }),
      ...(this.errorCode && { errorCode: this.errorCode }),
    }
  }
}
