import type { Budgets, Reservation } from '../access/budgets.js'
import type { Client } from '../access/client-keys.js'

/**
 * One tool call's share of its client's budgets: the tool reserves its estimate before it calls
 * an upstream, and the call settles to what it spent when it ends, whatever way it ends. Without a
 * client (an open router) nothing is counted.
 */
export class CallBudget {
  #reservation: Reservation | undefined

  constructor (private readonly budgets: Budgets, private readonly client: Client | undefined) {}

  /** Reserves an estimate of the tokens the call will spend; throws the limit that is used up. A second reservation adds to the first. */
  async reserve (tokens: number): Promise<void> {
    if (!this.client) return
    const reservation = await this.budgets.reserve(this.client, tokens)
    this.#reservation = this.#reservation ? { ...this.#reservation, tokens: this.#reservation.tokens + tokens } : reservation
  }

  /** Settles the reservation to the tokens the call spent (all of them, when nothing was reserved). */
  async settle (tokens: number): Promise<void> {
    if (!this.client) return
    const reservation = this.#reservation
    this.#reservation = undefined
    await this.budgets.settle(this.client, reservation, tokens)
  }
}
