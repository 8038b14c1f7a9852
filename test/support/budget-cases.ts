import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Client } from '../../src/access/client-keys.js'
import { TokenBudgets } from '../../src/access/token-budgets.js'
import type { ToolError } from '../../src/errors.js'
import type { WindowCounters } from '../../src/shared-state/window-counters.js'

/** The budget logic against any counters: in memory here, in Redis in the shared-state tests. */
export function budgetResetCases (counters: () => WindowCounters, clientName = 'budget-team') {
  const client: Client = { name: clientName, models: undefined, requestsPerMinute: undefined, tokens: { day: 100, month: 250 }, operator: false, hasKey: true }

  test('a daily budget is exhausted by spending, and resets at the next UTC midnight', async () => {
    let now = Date.UTC(2026, 0, 31, 23, 59, 30)
    const refused: string[] = []
    const budgets = new TokenBudgets(counters(), (_client, limit) => refused.push(limit), () => now)
    await budgets.check(client)
    await budgets.spend(client, 100)
    await assert.rejects(budgets.check(client), (err: ToolError) => {
      assert.equal(err.code, 'token_limit_reached')
      assert.equal(err.details.retryAfterSeconds, 30)
      assert.match(err.message, /used its 100 tokens per day; the limit resets at 2026-02-01T00:00:00\.000Z \(in 30 s\)/)
      return true
    })
    assert.deepEqual(refused, ['tokens_per_day'])
    now = Date.UTC(2026, 1, 1, 0, 0, 1)
    await budgets.check(client)
    await budgets.spend(client, 99)
    await budgets.check(client)
    // February's month budget starts afresh too: 99 + 100 + 60 crosses 250 only on the third day.
    now = Date.UTC(2026, 1, 2, 12)
    await budgets.spend(client, 100)
    now = Date.UTC(2026, 1, 3, 12)
    await budgets.spend(client, 60)
    await assert.rejects(budgets.check(client), /used its 250 tokens per month; the limit resets at 2026-03-01T00:00:00\.000Z/)
  })
}
