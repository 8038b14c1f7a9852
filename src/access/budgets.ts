import { ToolError } from '../errors.js'
import type { CounterReservation, WindowCounters } from '../shared-state/window-counters.js'
import type { Client } from './client-keys.js'
import type { TokenLimits } from './config.js'

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
 * What a call set aside when it was admitted: its estimate, and when (which fixes the windows it
 * went into). A plain value, so that a call that ends before its spending is known (a background
 * response) can hand it on.
 */
export interface Reservation {
  tokens: number
  at: number
}

/**
 * Each client's tokens per minute, day and month. A call is admitted only while every limit has
 * room left, and then reserves its estimate in each at once (atomically, in Redis across replicas);
 * when it ends it settles to what it really spent, giving back the difference or adding the
 * excess. So however many calls start together, they spend at most the limit plus the call that
 * crosses it, and a lone call is admitted under an untouched limit whatever its estimate.
 */
export class Budgets {
  constructor (
    private readonly counters: WindowCounters,
    private readonly onRefused: (client: string, limit: string) => void,
    private readonly now: () => number = Date.now
  ) {}

  /** Reserves `tokens` in every window of the client's limits, or throws `token_limit_reached` naming the limit that is used up and its reset time. */
  async reserve (client: Client, tokens: number): Promise<Reservation> {
    const at = this.now()
    const windows = this.#windows(client, at)
    const full = await this.counters.reserve(windows.map(({ key, limit, endsAt }): CounterReservation => ({ key, limit, amount: tokens, windowMs: endsAt - at })))
    const reached = windows[full]
    if (!reached) return { tokens, at }
    this.onRefused(client.name, `tokens_per_${reached.period}`)
    const retryAfterSeconds = Math.max(1, Math.ceil((reached.endsAt - at) / 1000))
    throw new ToolError('token_limit_reached', `Client "${client.name}" has used its ${reached.limit} tokens per ${reached.period}; the limit resets at ${new Date(reached.endsAt).toISOString()} (in ${retryAfterSeconds} s). Its calls still running count with what they may spend until they end. No upstream call was made.`, { retryable: true, retryAfterSeconds })
  }

  /**
   * Replaces a reservation by what the call spent, in the windows the reservation went into (a
   * window that has ended since is left as it is); without a reservation, charges `tokens` now.
   */
  async settle (client: Client, reservation: Reservation | undefined, tokens: number): Promise<void> {
    const now = this.now()
    const { at, tokens: reserved } = reservation ?? { at: now, tokens: 0 }
    const difference = tokens - reserved
    if (difference === 0) return
    const running = this.#windows(client, at).filter(({ endsAt }) => endsAt > now)
    await Promise.all(running.map(({ key, endsAt }) => this.counters.add(key, difference, endsAt - now)))
  }

  #windows (client: Client, now: number) {
    return (Object.entries(client.tokens) as Array<[Period, number]>).map(([period, limit]) => {
      const { id, endsAt } = windowOf(period, now)
      return { period, limit, endsAt, key: `tokens:${client.name}:${period}:${id}` }
    })
  }
}
