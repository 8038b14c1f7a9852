import type { Client } from '../access/client-keys.js'
import { clientRateKey, requestCounterKey } from '../access/request-rate.js'
import { PERIODS, tokenWindow } from '../access/token-budgets.js'
import type { WindowCounters } from '../shared-state/window-counters.js'

export type UsageMeasure = 'requests' | 'tokens' | 'usd'
export type UsagePeriod = 'minute' | 'day' | 'month'

/** What one client used of one measure in the current window of one period, against its limit. */
export interface UsageRow {
  measure: UsageMeasure
  period: UsagePeriod
  used: number
  /** Undefined: no limit (the row is shown without a bar). Requests are listed only where limited. */
  limit: number | undefined
  /** When the window ends, epoch ms; undefined when the counter does not say (the request window starts with a client's first request). */
  resetsAt: number | undefined
}

/** Each client's usage rows, by client name; one answer for the whole list, so a backend can read it in one round trip. */
export interface ClientUsageSource {
  usage: (clients: readonly Client[]) => Promise<Map<string, UsageRow[]>>
}

/**
 * Requests per minute and tokens per minute, day and month, read from the window counters the
 * limits themselves count in: with Redis they are the cluster's, otherwise this process's.
 */
export class CounterUsage implements ClientUsageSource {
  constructor (
    private readonly counters: WindowCounters,
    /** RATE_LIMIT_RPM: the request limit of clients without a requestsPerMinute of their own; 0 for none. */
    private readonly defaultRequestsPerMinute: number,
    private readonly now: () => number = Date.now
  ) {}

  async usage (clients: readonly Client[]): Promise<Map<string, UsageRow[]>> {
    const now = this.now()
    const wanted = clients.flatMap((client) => {
      // The rate limiter counts only the requests of clients it limits.
      const requestLimit = client.requestsPerMinute ?? this.defaultRequestsPerMinute
      const requests = requestLimit === 0 ? [] : [{ client, measure: 'requests' as const, period: 'minute' as const, limit: requestLimit, resetsAt: undefined, key: requestCounterKey(clientRateKey(client.name)) }]
      return [...requests, ...PERIODS.map((period) => {
        const { key, endsAt } = tokenWindow(client.name, period, now)
        return { client, measure: 'tokens' as const, period, limit: client.tokens[period], resetsAt: endsAt, key }
      })]
    })
    const used = wanted.length === 0 ? [] : await this.counters.read(wanted.map(({ key }) => key))
    const rows = new Map<string, UsageRow[]>(clients.map((client) => [client.name, []]))
    wanted.forEach(({ client, measure, period, limit, resetsAt }, index) => {
      rows.get(client.name)?.push({ measure, period, used: used[index] ?? 0, limit, resetsAt })
    })
    return rows
  }
}
