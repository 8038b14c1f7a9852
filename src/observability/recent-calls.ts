import type { CallRecord } from './call-record.js'
import type { PriceTable } from './prices.js'

/**
 * One finished tool call as the status page lists it: who, what, where it went and how it ended.
 * Never its arguments or its answer (prompts, text, images), and never a key: only names the
 * configuration gives (client, provider) and what the upstream reported (model, tokens).
 */
export interface RecentCall {
  /** Increases by one per call on this replica: a reader asks for the calls after the last it has. */
  seq: number
  /** When it finished, epoch ms. */
  at: number
  /** Undefined when the router runs open. */
  client: string | undefined
  /** The OAuth principal, for a call made with an access token. */
  principal: string | undefined
  tool: string
  modelRequested: string | undefined
  modelServed: string | undefined
  provider: string | undefined
  /** `ok`, `tool_error` for a result the tool marked as an error, or the error code. */
  outcome: string
  durationMs: number
  inputTokens: number
  outputTokens: number
  /** Estimated from the price table; undefined for a model without a price or a call that spent nothing. */
  costUsd: number | undefined
  cache: CallRecord['cache']
  /** The provider/model pairs that failed and passed the call on to a fallback, with why. */
  fallbacks: string[]
}

/** The last `capacity` tool calls of this process, in a ring: memory stays the same however long it runs. */
export class RecentCalls {
  readonly #ring: Array<RecentCall | undefined>
  #next = 0
  #seq = 0

  constructor (
    private readonly capacity: number,
    private readonly prices: PriceTable,
    private readonly now: () => number = Date.now
  ) {
    this.#ring = new Array<RecentCall | undefined>(capacity)
  }

  /** The sequence number of the newest call; 0 before the first. */
  get lastSeq (): number {
    return this.#seq
  }

  add (record: CallRecord): void {
    const cost = record.modelAnswered === undefined
      ? undefined
      : this.prices.costOfCall({
        model: record.modelAnswered,
        inputTokens: record.inputTokens,
        outputTokens: record.outputTokens,
        images: record.images,
      })
    this.#ring[this.#next] = {
      seq: ++this.#seq,
      at: this.now(),
      client: record.client,
      principal: record.principal,
      tool: record.tool,
      modelRequested: record.modelRequested,
      modelServed: record.modelAnswered,
      provider: record.providerAnswered,
      outcome: record.errorCode ?? record.outcome ?? 'ok',
      durationMs: Math.round(record.durationMs),
      inputTokens: record.inputTokens,
      outputTokens: record.outputTokens,
      costUsd: cost || undefined,
      cache: record.cache,
      // Every attempt but the last passed the call on to the next.
      fallbacks: record.attempts.slice(0, -1).map(({ provider, model, outcome }) => `${provider}/${model}: ${outcome}`),
    }
    this.#next = (this.#next + 1) % this.capacity
  }

  /** The calls after `afterSeq` (all that are kept, by default), newest first. */
  newest (afterSeq = 0): RecentCall[] {
    const calls: RecentCall[] = []
    for (let offset = 1; offset <= this.capacity; offset++) {
      const call = this.#ring[(this.#next - offset + this.capacity) % this.capacity]
      if (!call || call.seq <= afterSeq) break
      calls.push(call)
    }
    return calls
  }
}
