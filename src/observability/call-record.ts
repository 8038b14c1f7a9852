import { type Context, ROOT_CONTEXT } from '@opentelemetry/api'
import type { ToolErrorCode } from '../errors.js'
import type { TokenUsage } from '../upstream/chat-types.js'
import type { ImageOrder } from './prices.js'

/** Tokens an upstream call reported; embeddings have no output tokens. */
export type SpentTokens = Pick<TokenUsage, 'inputTokens'> & Partial<Pick<TokenUsage, 'outputTokens'>>

export type CallOutcome = 'ok' | 'tool_error'

/**
 * One upstream call a tool call made (a retry is part of it): where it went, how long it took, and
 * `ok` or the error code.
 */
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

/** Whether the response cache answered the call, stored its answer, or was not used. */
export type CacheUse = 'hit' | 'miss' | 'bypass'

/**
 * What one tool call did, gathered while it runs. Its log line, its metrics and its trace are all
 * written from this one record, so they always agree. Each step of a call fills its own part,
 * and only through these methods:
 *
 * - `admitted`: the tool runtime, as the call starts (who made it);
 * - `routed`, `attempted`, `retried`, `upstreamFinished`: the upstream pipeline (which model was
 *   asked for, where the call went, how each upstream call ended, and who answered);
 * - `cacheUsed`: the response cache (and `answered`, for an answer it gives);
 * - `answered`, `estimated`, `imagesMade`: the tools (the model that answered and what it spent);
 * - `finished`: the tool runtime, as the call ends (how, and how long it took).
 */
export class CallRecord {
  #client: string | undefined
  #principal: string | undefined
  #modelRequested: string | undefined
  #modelAnswered: string | undefined
  #providerAnswered: string | undefined
  readonly #attempts: RouteAttempt[] = []
  readonly #upstream: UpstreamResult[] = []
  #retries = 0
  #cache: CacheUse | undefined
  #inputTokens = 0
  #outputTokens = 0
  #tokensEstimated = false
  #images: ImageOrder | undefined
  #outcome: CallOutcome | undefined
  #errorCode: ToolErrorCode | undefined
  #durationMs = 0

  /** @param traceContext the trace the call's upstream spans belong to (the MCP message's span). */
  constructor (readonly tool: string, readonly traceContext: Context = ROOT_CONTEXT) {}

  /** The client that made the call, by name, and the OAuth principal it came from; neither on an open router. */
  admitted (client: { name: string, principal?: string | undefined } | undefined): void {
    this.#client = client?.name
    this.#principal = client?.principal
  }

  /** The model the call asked for, as its client named it: the first one named counts. */
  routed (model: string): void {
    this.#modelRequested ??= model
  }

  /** One provider and model the call was sent to, and how that went. */
  attempted (attempt: RouteAttempt): void {
    this.#attempts.push(attempt)
  }

  /** An upstream attempt is repeated after a transient failure. */
  retried (): void {
    this.#retries++
  }

  /** One upstream call ended; an `ok` one makes its provider the one that answered. */
  upstreamFinished (result: UpstreamResult): void {
    this.#upstream.push(result)
    if (result.outcome === 'ok') this.#providerAnswered = result.provider
  }

  cacheUsed (use: CacheUse): void {
    this.#cache = use
  }

  /** The upstream's answer: the model that actually answered and, for calls that spend tokens, what they spent. */
  answered (model: string, usage?: SpentTokens): void {
    this.#modelAnswered = model
    if (usage) this.#spent(usage)
  }

  /** Tokens the router estimated for an answer whose usage never came (a stream cut off before its last event). */
  estimated (usage: SpentTokens): void {
    this.#tokensEstimated = true
    this.#spent(usage)
  }

  #spent (usage: SpentTokens): void {
    this.#inputTokens += usage.inputTokens
    this.#outputTokens += usage.outputTokens ?? 0
  }

  /** The images an image model made, which models billed by the image are priced by. */
  imagesMade (order: ImageOrder): void {
    this.#images = order
  }

  finished (outcome: CallOutcome, durationMs: number, errorCode?: ToolErrorCode): void {
    this.#outcome = outcome
    this.#durationMs = durationMs
    this.#errorCode = errorCode
  }

  get client (): string | undefined { return this.#client }
  get principal (): string | undefined { return this.#principal }
  get modelRequested (): string | undefined { return this.#modelRequested }
  get modelAnswered (): string | undefined { return this.#modelAnswered }
  /** The provider of the last answer. */
  get providerAnswered (): string | undefined { return this.#providerAnswered }
  /** Every provider and model tried, fallbacks included, in order. */
  get attempts (): readonly RouteAttempt[] { return this.#attempts }
  /** Every upstream call, in order, with its time: what the status page's error rates and latencies are made of. */
  get upstream (): readonly UpstreamResult[] { return this.#upstream }
  get upstreamCalls (): number { return this.#upstream.length }
  get upstreamMs (): number { return this.#upstream.reduce((total, call) => total + call.durationMs, 0) }
  /** Upstream attempts repeated after a transient failure. */
  get retries (): number { return this.#retries }
  /** Undefined for tools without a cache. */
  get cache (): CacheUse | undefined { return this.#cache }
  get inputTokens (): number { return this.#inputTokens }
  get outputTokens (): number { return this.#outputTokens }
  /** Whether some of the tokens are the router's estimate rather than the upstream's report. */
  get tokensEstimated (): boolean { return this.#tokensEstimated }
  get images (): ImageOrder | undefined { return this.#images }
  get outcome (): CallOutcome | undefined { return this.#outcome }
  get errorCode (): ToolErrorCode | undefined { return this.#errorCode }
  get durationMs (): number { return this.#durationMs }

  /** Who answered and what was tried so far, as the call's answer tells its client. */
  routing (): { provider?: string, attempts: RouteAttempt[] } {
    return { ...(this.#providerAnswered && { provider: this.#providerAnswered }), attempts: [...this.#attempts] }
  }

  /** The record as log fields; what did not happen (no model, no upstream call) is left out. */
  logFields (): Record<string, unknown> {
    return {
      tool: this.tool,
      ...(this.modelRequested && { modelRequested: this.modelRequested }),
      ...(this.modelAnswered && { modelAnswered: this.modelAnswered }),
      ...(this.providerAnswered && { provider: this.providerAnswered }),
      // Only a call that went to more than one place has a story worth a field:
      // "openai/gpt-4.1:upstream_unavailable local/llama3:ok".
      ...(this.attempts.some((attempt) => attempt.outcome !== 'ok') && {
        attempts: this.attempts.map(({ provider, model, outcome }) => `${provider}/${model}:${outcome}`).join(' '),
      }),
      ...(this.upstreamCalls > 0 && { upstreamCalls: this.upstreamCalls, upstreamMs: Math.round(this.upstreamMs) }),
      ...(this.retries > 0 && { retries: this.retries }),
      ...((this.inputTokens > 0 || this.outputTokens > 0) && {
        inputTokens: this.inputTokens,
        outputTokens: this.outputTokens,
      }),
      ...(this.tokensEstimated && { tokensEstimated: true }),
      ...(this.cache && { cache: this.cache }),
      ...(this.errorCode && { errorCode: this.errorCode }),
    }
  }
}
