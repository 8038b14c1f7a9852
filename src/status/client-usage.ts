import type { BudgetName, Budgets, BudgetWindowUsage } from '../access/budgets.js'
import type { Client } from '../access/client-keys.js'

export type UsageMeasure = 'requests' | 'tokens' | 'usd'
export type UsagePeriod = 'minute' | 'day' | 'month'

/** What one client used of one limit in its current window. */
export interface UsageRow {
  measure: UsageMeasure
  period: UsagePeriod
  /** USD as a decimal. */
  used: number
  limit: number
  /** When the window ends, epoch ms. */
  resetsAt: number
}

/** Each client's usage rows, by client name. */
export interface ClientUsageSource {
  usage: (clients: readonly Client[]) => Promise<Map<string, UsageRow[]>>
}

const PERIOD_OF: Record<BudgetName, UsagePeriod> = {
  requestsPerMinute: 'minute',
  tokensPerMinute: 'minute',
  tokensPerDay: 'day',
  tokensPerMonth: 'month',
  usdPerDay: 'day',
  usdPerMonth: 'month',
}

/**
 * Every limit of each client (requests per minute, tokens per minute, day and month, USD per day
 * and month) in its current window, as the budgets read them from the counters they enforce with:
 * with Redis the cluster's, otherwise this process's; running calls count with their reservations.
 */
export class BudgetUsage implements ClientUsageSource {
  constructor (private readonly budgets: Pick<Budgets, 'usage'>) {}

  async usage (clients: readonly Client[]): Promise<Map<string, UsageRow[]>> {
    const usages = await Promise.all(clients.map(async (client) => this.budgets.usage(client)))
    const rowsOf = (windows: readonly BudgetWindowUsage[]): UsageRow[] =>
      windows.map(({ budget, unit, spent, limit, resetsAt }) => ({
        measure: unit,
        period: PERIOD_OF[budget],
        used: spent,
        limit,
        resetsAt: Date.parse(resetsAt),
      }))
    return new Map(usages.map(({ client, windows }) => [client, rowsOf(windows)]))
  }
}
