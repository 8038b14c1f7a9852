import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Budgets } from '../../src/access/budgets.js'
import type { Client } from '../../src/access/client-keys.js'
import type { ToolError } from '../../src/errors.js'
import type { WindowCounters } from '../../src/shared-state/window-counters.js'

/** The budget logic against any counters: in memory here, in Redis in the shared-state tests. */
export function budgetResetCases (counters: () => WindowCounters, clientName = 'budget-team') {
  const client: Client = { name: clientName, models: undefined, requestsPerMinute: undefined, tokens: { day: 100, month: 250 } }

  test('a daily budget is exhausted by spending, and resets at the next UTC midnight', async () => {
    let now = Date.UTC(2026, 0, 31, 23, 59, 30)
    const refused: string[] = []
    const budgets = new Budgets(counters(), (_client, limit) => refused.push(limit), () => now)
    await budgets.settle(client, await budgets.reserve(client, 10), 100)
    await assert.rejects(budgets.reserve(client, 1), (err: ToolError) => {
      assert.equal(err.code, 'token_limit_reached')
      assert.equal(err.details.retryAfterSeconds, 30)
      assert.match(err.message, /used its 100 tokens per day; the limit resets at 2026-02-01T00:00:00\.000Z \(in 30 s\)/)
      return true
    })
    assert.deepEqual(refused, ['tokens_per_day'])
    now = Date.UTC(2026, 1, 1, 0, 0, 1)
    await budgets.settle(client, await budgets.reserve(client, 10), 99)
    await budgets.settle(client, await budgets.reserve(client, 1), 0)
    // February's month budget starts afresh too: 99 + 100 + 60 crosses 250 only on the third day.
    now = Date.UTC(2026, 1, 2, 12)
    await budgets.settle(client, undefined, 100)
    now = Date.UTC(2026, 1, 3, 12)
    await budgets.settle(client, undefined, 60)
    await assert.rejects(budgets.reserve(client, 1), /used its 250 tokens per month; the limit resets at 2026-03-01T00:00:00\.000Z/)
  })

  test('reservations count until they settle: a lone call is admitted whatever its estimate, the next waits for room', async () => {
    const now = Date.UTC(2026, 4, 5, 12)
    const budgets = new Budgets(counters(), () => {}, () => now)
    // An untouched budget admits one call even though its estimate is over the limit.
    const large = await budgets.reserve(client, 500)
    await assert.rejects(budgets.reserve(client, 1), /used its 100 tokens per day/)
    // It spent less than it reserved: the rest is given back, and room is left for more.
    await budgets.settle(client, large, 30)
    const calls = await Promise.allSettled(Array.from({ length: 10 }, async () => budgets.reserve(client, 25)))
    // 30, then 55, 80, 105: the call that crosses the limit is the last one admitted.
    assert.equal(calls.filter((call) => call.status === 'fulfilled').length, 3)
  })
}
