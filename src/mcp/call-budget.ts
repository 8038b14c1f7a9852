import { type Budgets, type Reservation, type Spend, toMicroUsd } from '../access/budgets.js'
import type { Client } from '../access/client-keys.js'
import { ToolError } from '../errors.js'
import type { CallRecord } from '../observability/call-record.js'
import type { PriceTable, PricedUsage } from '../observability/prices.js'
import type { ChatResult } from '../upstream/chat-types.js'

/**
 * One tool call's share of its client's budgets: the tool reserves its estimate before it calls
 * an upstream, and the call settles to what it spent when it ends, whatever way it ends. A
 * background response still running at the end keeps its reservation until its usage is known.
 * Without a client (an open router) nothing is counted.
 */
export class CallBudget {
  #reservation: Reservation | undefined
  /** The model the estimate was priced for: the price of a call whose answering model has none. */
  #pricedModel: string | undefined

  constructor (
    private readonly budgets: Budgets,
    private readonly prices: PriceTable,
    private readonly client: Client | undefined
  ) {}

  /**
   * Reserves the estimate of what the call will spend; throws the limit that is used up, or
   * `model_unpriced` when the client has a USD budget and the model has no price.
   */
  async reserve (estimate: PricedUsage): Promise<void> {
    const { client } = this
    if (!client) return
    const usd = this.prices.costOfCall(estimate)
    if (usd === undefined && this.budgets.hasUsdLimits(client)) {
      this.budgets.refusedUnpriced(client)
      throw new ToolError('model_unpriced', `Client "${client.name}" has a USD budget (${Object.keys(client.usd).map((period) => period === 'day' ? 'usdPerDay' : 'usdPerMonth').join(', ')}), and model "${estimate.model}" has no price, so what the call would cost cannot be counted. Call a priced model, or give this one a price in MODEL_PRICES (IMAGE_PRICES for models billed by the image). No upstream call was made.`, { retryable: false })
    }
    const tokens = estimate.inputTokens + estimate.outputTokens
    this.#reservation = await this.budgets.reserve(client, { tokens, microUsd: toMicroUsd(usd ?? 0) })
    this.#pricedModel = estimate.model
  }

  /** The call started a background response that is still running: its reservation waits for the response's usage. */
  async defer (responseId: string): Promise<void> {
    const [client, reservation, model] = [this.client, this.#reservation, this.#pricedModel]
    if (!client || !reservation || model === undefined) return
    this.#reservation = undefined
    await this.budgets.defer(client, responseId, reservation, model)
  }

  /**
   * The call found a background response finished: the reservation its chat left becomes this
   * call's, settled to what the record is given. False when there is none (charged already, by
   * this replica or another, or never deferred): the response's usage is then not this call's.
   */
  async resume (responseId: string): Promise<boolean> {
    if (!this.client) return false
    const deferred = await this.budgets.takeDeferred(this.client, responseId)
    if (!deferred) return false
    this.#reservation = deferred.reservation
    this.#pricedModel = deferred.model
    return true
  }

  /**
   * A `chat` continues a background response: settles the reservation it left to its usage, when
   * it finished, apart from this call's own.
   */
  async settleContinued (responseId: string, previous: ChatResult): Promise<void> {
    const { client } = this
    if (!client) return
    const deferred = await this.budgets.takeDeferred(client, responseId)
    if (!deferred) return
    const { inputTokens = 0, outputTokens = 0 } = previous.usage ?? {}
    const { model, reservation } = deferred
    const spent = this.#spent({ model: previous.model, inputTokens, outputTokens }, model, reservation)
    await this.budgets.settle(client, reservation, spent)
  }

  /** Whether a background response's reservation still waits for its usage. */
  async isDeferred (responseId: string): Promise<boolean> {
    return this.client !== undefined && await this.budgets.isDeferred(responseId)
  }

  /** Settles the reservation to what the record says the call spent (all of it, when nothing was reserved). */
  async settle (record: CallRecord): Promise<void> {
    if (!this.client) return
    const reservation = this.#reservation
    this.#reservation = undefined
    const { modelAnswered, inputTokens, outputTokens, images } = record
    const answered = { model: modelAnswered, inputTokens, outputTokens, images }
    const spent = this.#spent(answered, this.#pricedModel, reservation)
    await this.budgets.settle(this.client, reservation, spent)
  }

  /**
   * Tokens as reported; USD from the price of the model that answered, else the model the
   * estimate was priced for, else the estimate itself.
   */
  #spent (
    { model, ...usage }: Omit<PricedUsage, 'model'> & { model: string | undefined },
    pricedModel: string | undefined,
    reservation: Reservation | undefined
  ): Spend {
    const priced = (name: string | undefined) =>
      name === undefined ? undefined : this.prices.costOfCall({ model: name, ...usage })
    const usd = priced(model) ?? priced(pricedModel)
    const microUsd = usd === undefined ? reservation?.microUsd ?? 0 : toMicroUsd(usd)
    return { tokens: usage.inputTokens + usage.outputTokens, microUsd }
  }
}
