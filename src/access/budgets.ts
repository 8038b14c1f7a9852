import { ToolError } from '../errors.js'
import type { DeferredCharges } from '../shared-state/deferred-charges.js'
import type { CounterReservation, WindowCounters } from '../shared-state/window-counters.js'
import type { Client } from './client-keys.js'
import type { TokenLimits } from './client-config.js'

type Period = keyof TokenLimits

/** One period's window at a given time: its id (part of the counter's key) and when it ends. UTC days and months. */
function windowOf (period: Period, now: number): { id: string, endsAt: number } {
  const date = new Date(now)
  const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()]
  switch (period) {
    case 'minute': {
      const minute = Math.floor(now / 60_000)
      return { id: String(minute), endsAt: (minute + 1) * 60_000 }
    }
    case 'day':
      return { id: date.toISOString().slice(0, 10), endsAt: Date.UTC(year, month, day + 1) }
    case 'month':
      return { id: date.toISOString().slice(0, 7), endsAt: Date.UTC(year, month + 1, 1) }
  }
}

/**
 * What a call spends, in both units budgets count: tokens, and millionths of a dollar (integers, as
 * Redis counts them).
 */
export interface Spend {
  tokens: number
  microUsd: number
}

const MICRO_USD_PER_USD = 1_000_000

/** USD as the whole millionths budgets count, rounded up: a call that costs something never counts as free. */
export function toMicroUsd (usd: number): number {
  return Math.ceil(Math.round(usd * MICRO_USD_PER_USD * 1000) / 1000)
}

/**
 * What a call set aside when it was admitted: its estimate, and when (which fixes the windows it
 * went into). A plain value, so that a call that ends before its spending is known (a background
 * response) can hand it on.
 */
export interface Reservation extends Spend {
  at: number
}

/** The clients-file field of each limit, as refusals and {@link Budgets.usage} name it. */
export type BudgetName = 'requestsPerMinute' | 'tokensPerMinute' | 'tokensPerDay' | 'tokensPerMonth' | 'usdPerDay' | 'usdPerMonth'

/** One limit of a client in its current window: how much is spent of how much, and when it starts afresh. */
export interface BudgetWindowUsage {
  budget: BudgetName
  unit: 'requests' | 'tokens' | 'usd'
  /** Spent so far in this window (running calls' reservations included), in `unit`: USD as a decimal. */
  spent: number
  limit: number
  /** When the window ends and the count starts again (ISO 8601, UTC). */
  resetsAt: string
}

/** A client's spending against each of its limits; a client without limits has no windows. */
export interface ClientUsage {
  client: string
  windows: BudgetWindowUsage[]
}

/**
 * What budgets know of a client: its name and limits (a `Client`, or a clients-file entry as
 * `config.clients` has it).
 */
export type BudgetHolder = Pick<Client, 'name' | 'requestsPerMinute' | 'tokens' | 'usd'>

/** The key the request-rate limit counts a client's requests under. */
export function requestCounterKey (clientName: string): string {
  return `requests:client:${clientName}`
}

export interface BudgetsOptions {
  counters: WindowCounters
  /** The reservations of background responses whose usage is not known yet. */
  deferred: DeferredCharges
  onRefused: (client: string, limit: string) => void
  /** RATE_LIMIT_RPM: the request limit of clients without their own requestsPerMinute (0: none). */
  defaultRequestsPerMinute: number
  now?: () => number
}

interface BudgetWindow {
  budget: Exclude<BudgetName, 'requestsPerMinute'>
  unit: keyof Spend
  period: Period
  /** In the window's unit: tokens, or millionths of a dollar. */
  limit: number
  endsAt: number
  key: string
}

const PERIOD_NAMES = { minute: 'Minute', day: 'Day', month: 'Month' } as const

/**
 * Each client's tokens per minute, day and month, and USD per day and month. A call is admitted
 * only while every limit has room left, and then reserves its estimate in each at once
 * (atomically, in Redis across replicas); when it ends it settles to what it really spent, giving
 * back the difference or adding the excess. So however many calls start together, they spend at
 * most the limit plus the call that crosses it, and a lone call is admitted under an untouched
 * limit whatever its estimate.
 */
export class Budgets {
  readonly #counters: WindowCounters
  readonly #deferred: DeferredCharges
  readonly #onRefused: BudgetsOptions['onRefused']
  readonly #defaultRequestsPerMinute: number
  readonly #now: () => number

  constructor ({ counters, deferred, onRefused, defaultRequestsPerMinute, now = Date.now }: BudgetsOptions) {
    this.#counters = counters
    this.#deferred = deferred
    this.#onRefused = onRefused
    this.#defaultRequestsPerMinute = defaultRequestsPerMinute
    this.#now = now
  }

  /** Whether the client has a USD budget, and so whether its calls must have a price. */
  hasUsdLimits (client: Client): boolean {
    return Object.keys(client.usd).length > 0
  }

  /** Counts the refusal of a call under a USD budget for a model without a price. */
  refusedUnpriced (client: Client): void {
    this.#onRefused(client.name, 'usd_unpriced_model')
  }

  /**
   * Reserves `spend` in every window of the client's limits, or throws `token_limit_reached` or
   * `usd_limit_reached` naming the limit that is used up and its reset time.
   */
  async reserve (client: Client, spend: Spend): Promise<Reservation> {
    const at = this.#now()
    const windows = this.#windows(client, at)
    const reservations = windows.map(({ key, limit, unit, endsAt }): CounterReservation => ({
      key,
      limit,
      amount: spend[unit],
      windowMs: endsAt - at,
    }))
    const full = await this.#counters.reserve(reservations)
    const reached = full === -1 ? undefined : windows[full]
    if (!reached) return { ...spend, at }
    this.#onRefused(client.name, reached.unit === 'tokens' ? `tokens_per_${reached.period}` : `usd_per_${reached.period}`)
    const retryAfterSeconds = Math.max(1, Math.ceil((reached.endsAt - at) / 1000))
    const resets = `the limit resets at ${new Date(reached.endsAt).toISOString()} (in ${retryAfterSeconds} s). Its calls still running count with what they may spend until they end. No upstream call was made.`
    if (reached.unit === 'tokens') {
      throw new ToolError('token_limit_reached', `Client "${client.name}" has used its ${reached.limit} tokens per ${reached.period} (${reached.budget}); ${resets}`, { retryable: true, retryAfterSeconds })
    }
    throw new ToolError('usd_limit_reached', `Client "${client.name}" has spent its ${formatUsd(reached.limit)} per ${reached.period} (${reached.budget}); ${resets}`, { retryable: true, retryAfterSeconds })
  }

  /**
   * Replaces a reservation by what the call spent, in the windows the reservation went into. Of a
   * window that has ended since (a background response fetched the next day), the reservation
   * stays as it was and any excess is charged to the window running now. Without a reservation,
   * charges `spent` now.
   */
  async settle (client: Client, reservation: Reservation | undefined, spent: Spend): Promise<void> {
    const now = this.#now()
    const { at, ...reserved } = reservation ?? { at: now, tokens: 0, microUsd: 0 }
    const current = this.#windows(client, now)
    const changes = this.#windows(client, at).flatMap((window, index) => {
      const difference = spent[window.unit] - reserved[window.unit]
      const target = window.endsAt > now ? window : difference > 0 ? current[index] : undefined
      return difference !== 0 && target ? [{ ...target, difference }] : []
    })
    await Promise.all(changes.map(({ key, difference, endsAt }) => this.#counters.add(key, difference, endsAt - now)))
  }

  /**
   * Keeps a reservation for a background response still running when its call ends: it stays
   * counted until {@link takeDeferred} settles it to the response's usage (or for good, if nobody
   * ever fetches the response). `model` is the one its USD estimate was priced for.
   */
  async defer (client: Client, responseId: string, reservation: Reservation, model: string): Promise<void> {
    await this.#deferred.defer(responseId, { client: client.name, ...reservation, model })
  }

  /** Whether a background response's reservation still waits for its usage. */
  async isDeferred (responseId: string): Promise<boolean> {
    return this.#deferred.has(responseId)
  }

  /** The reservation a background response of this client left, removed: it is settled once, by whoever takes it. */
  async takeDeferred (
    client: Client,
    responseId: string
  ): Promise<{ reservation: Reservation, model: string } | undefined> {
    const charge = await this.#deferred.take(responseId)
    if (charge?.client !== client.name) return undefined
    const { tokens, microUsd, at, model } = charge
    return { reservation: { tokens, microUsd, at }, model }
  }

  /**
   * What the client has spent of each of its limits in the current windows: requests per minute,
   * tokens, USD (running calls count with their reservations). For status pages; reads only.
   */
  async usage (client: BudgetHolder): Promise<ClientUsage> {
    const now = this.#now()
    const windows = this.#windows(client, now)
    const requestLimit = client.requestsPerMinute ?? this.#defaultRequestsPerMinute
    const keys = [...windows.map(({ key }) => key), ...(requestLimit > 0 ? [requestCounterKey(client.name)] : [])]
    const counts = await this.#counters.read(keys)
    const usage: BudgetWindowUsage[] = windows.map(({ budget, unit, limit, endsAt }, index) => {
      const spent = counts[index]?.count ?? 0
      return unit === 'tokens'
        ? { budget, unit: 'tokens', spent, limit, resetsAt: new Date(endsAt).toISOString() }
        : { budget, unit: 'usd', spent: spent / MICRO_USD_PER_USD, limit: limit / MICRO_USD_PER_USD, resetsAt: new Date(endsAt).toISOString() }
    })
    if (requestLimit > 0) {
      // The request window starts with the client's first request: one that is not counting yet
      // resets a minute from now.
      const requests = counts[windows.length] ?? { count: 0, resetMs: 0 }
      usage.unshift({ budget: 'requestsPerMinute', unit: 'requests', spent: requests.count, limit: requestLimit, resetsAt: new Date(now + (requests.resetMs || 60_000)).toISOString() })
    }
    return { client: client.name, windows: usage }
  }

  #windows (client: BudgetHolder, now: number): BudgetWindow[] {
    const tokens = (Object.entries(client.tokens) as Array<[Period, number]>).map(([period, limit]): BudgetWindow => {
      const { id, endsAt } = windowOf(period, now)
      return { budget: `tokensPer${PERIOD_NAMES[period]}`, unit: 'tokens', period, limit, endsAt, key: `tokens:${client.name}:${period}:${id}` }
    })
    const usd = (Object.entries(client.usd) as Array<['day' | 'month', number]>).map(([period, limit]): BudgetWindow => {
      const { id, endsAt } = windowOf(period, now)
      return { budget: `usdPer${PERIOD_NAMES[period]}`, unit: 'microUsd', period, limit: toMicroUsd(limit), endsAt, key: `usd:${client.name}:${period}:${id}` }
    })
    return [...tokens, ...usd]
  }
}

function formatUsd (microUsd: number): string {
  return `$${Number((microUsd / MICRO_USD_PER_USD).toFixed(6))}`
}
