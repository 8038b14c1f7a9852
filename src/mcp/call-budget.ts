import { type Budgets, type Reservation, type Spend, toMicroUsd } from '../access/budgets.js'
import type { Client } from '../access/client-keys.js'
import { ToolError } from '../errors.js'
import type { CallRecord } from '../observability/call-record.js'
import type { PriceTable, PricedUsage } from '../observability/prices.js'

/**
 * One tool call's share of its client's budgets: the tool reserves its estimate before it calls
 * an upstream, and the call settles to what it spent when it ends, whatever way it ends. Without a
 * client (an open router) nothing is counted.
 */
export class CallBudget {
  #reservation: Reservation | undefined
  /** The model the estimate was priced for: the price of a call whose answering model has none. */
  #pricedModel: string | undefined

  constructor (private readonly budgets: Budgets, private readonly prices: PriceTable, private readonly client: Client | undefined) {}

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
      throw new ToolError('model_unpriced', `Client "${client.name}" has a USD budget (usdPerDay, usdPerMonth), and model "${estimate.model}" has no price, so what the call would cost cannot be counted. Call a priced model, or give this one a price in MODEL_PRICES (IMAGE_PRICES for models billed by the image). No upstream call was made.`, { retryable: false })
    }
    this.#reservation = await this.budgets.reserve(client, { tokens: estimate.inputTokens + estimate.outputTokens, microUsd: toMicroUsd(usd ?? 0) })
    this.#pricedModel = estimate.model
  }

  /** Settles the reservation to what the record says the call spent (all of it, when nothing was reserved). */
  async settle (record: CallRecord): Promise<void> {
    if (!this.client) return
    const reservation = this.#reservation
    this.#reservation = undefined
    await this.budgets.settle(this.client, reservation, this.#spentBy(record, reservation))
  }

  /**
   * Tokens as the record has them; USD from the price of the model that answered, else the model
   * the estimate was priced for, else the estimate itself.
   */
  #spentBy (record: CallRecord, reservation: Reservation | undefined): Spend {
    const { inputTokens, outputTokens, images } = record
    const priced = (model: string | undefined) => model === undefined ? undefined : this.prices.costOfCall({ model, inputTokens, outputTokens, images })
    const usd = priced(record.modelAnswered) ?? priced(this.#pricedModel)
    return { tokens: inputTokens + outputTokens, microUsd: usd === undefined ? reservation?.microUsd ?? 0 : toMicroUsd(usd) }
  }
}
