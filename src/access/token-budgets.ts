import { ToolError } from '../errors.js'
import type { WindowCounters } from '../shared-state/window-counters.js'
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
 * Each client's tokens per minute, day and month, counted from what the upstreams report. A call
 * starts only while every limit has tokens left; what it spends is added when it ends, so the call
 * that crosses a limit finishes and the next one is refused until the window resets.
 */
export class TokenBudgets {
  constructor (
    private readonly counters: WindowCounters,
    private readonly onRefused: (client: string, limit: string) => void,
    private readonly now: () => number = Date.now
  ) {}

  /** Throws `token_limit_reached` naming the limit and its reset time when the client has used one up. */
  async check (client: Client): Promise<void> {
    const now = this.now()
    const windows = this.#windows(client, now)
    if (windows.length === 0) return
    const used = await this.counters.read(windows.map(({ key }) => key))
    const reached = windows.find((window, index) => (used[index] ?? 0) >= window.limit)
    if (!reached) return
    this.onRefused(client.name, `tokens_per_${reached.period}`)
    const retryAfterSeconds = Math.max(1, Math.ceil((reached.endsAt - now) / 1000))
    throw new ToolError('token_limit_reached', `Client "${client.name}" has used its ${reached.limit} tokens per ${reached.period}; the limit resets at ${new Date(reached.endsAt).toISOString()} (in ${retryAfterSeconds} s). No upstream call was made.`, { retryable: true, retryAfterSeconds })
  }

  async spend (client: Client, tokens: number): Promise<void> {
    const now = this.now()
    await Promise.all(this.#windows(client, now).map(({ key, endsAt }) => this.counters.add(key, tokens, endsAt - now)))
  }

  #windows (client: Client, now: number) {
    return (Object.entries(client.tokens) as Array<[Period, number]>).map(([period, limit]) => {
      const { id, endsAt } = windowOf(period, now)
      return { period, limit, endsAt, key: `tokens:${client.name}:${period}:${id}` }
    })
  }
}
