import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Budgets } from '../../src/access/budgets.js'
import type { Client } from '../../src/access/client-keys.js'
import type { ToolError } from '../../src/errors.js'
import { DeferredCharges } from '../../src/shared-state/deferred-charges.js'
import type { WindowCounters } from '../../src/shared-state/window-counters.js'

/** The budget logic against any counters: in memory here, in Redis in the shared-state tests. */
export function budgetResetCases (counters: () => WindowCounters, clientName = 'budget-team') {
  const client: Client = {
    name: clientName,
    models: undefined,
    requestsPerMinute: undefined,
    tokens: { day: 100, month: 250 },
    usd: {},
    operator: false,
    hasKey: true,
  }
  const budgetsOn = (now: () => number, onRefused: (client: string, limit: string) => void = () => {}) =>
    new Budgets({
      counters: counters(),
      deferred: new DeferredCharges(undefined),
      onRefused,
      defaultRequestsPerMinute: 0,
      now,
    })
  const tokens = (count: number) => ({ tokens: count, microUsd: 0 })

  test('a daily budget is exhausted by spending, and resets at the next UTC midnight', async () => {
    let now = Date.UTC(2026, 0, 31, 23, 59, 30)
    const refused: string[] = []
    const budgets = budgetsOn(() => now, (_client, limit) => refused.push(limit))
    await budgets.settle(client, await budgets.reserve(client, tokens(10)), tokens(100))
    await assert.rejects(budgets.reserve(client, tokens(1)), (err: ToolError) => {
      assert.equal(err.code, 'token_limit_reached')
      assert.equal(err.details.retryAfterSeconds, 30)
      assert.match(err.message, /used its 100 tokens per day \(tokensPerDay\); the limit resets at 2026-02-01T00:00:00\.000Z \(in 30 s\)/)
      return true
    })
    assert.deepEqual(refused, ['tokens_per_day'])
    now = Date.UTC(2026, 1, 1, 0, 0, 1)
    await budgets.settle(client, await budgets.reserve(client, tokens(10)), tokens(99))
    await budgets.settle(client, await budgets.reserve(client, tokens(1)), tokens(0))
    // February's month budget starts afresh too: 99 + 100 + 60 crosses 250 only on the third day.
    now = Date.UTC(2026, 1, 2, 12)
    await budgets.settle(client, undefined, tokens(100))
    now = Date.UTC(2026, 1, 3, 12)
    await budgets.settle(client, undefined, tokens(60))
    await assert.rejects(budgets.reserve(client, tokens(1)), /used its 250 tokens per month \(tokensPerMonth\); the limit resets at 2026-03-01T00:00:00\.000Z/)
  })

  test('reservations count until they settle: a lone call is admitted whatever its estimate, the next waits for room', async () => {
    const now = Date.UTC(2026, 4, 5, 12)
    const budgets = budgetsOn(() => now)
    // An untouched budget admits one call even though its estimate is over the limit.
    const large = await budgets.reserve(client, tokens(500))
    await assert.rejects(budgets.reserve(client, tokens(1)), /used its 100 tokens per day/)
    // It spent less than it reserved: the rest is given back, and room is left for more.
    await budgets.settle(client, large, tokens(30))
    const calls = await Promise.allSettled(Array.from({ length: 10 }, async () => budgets.reserve(client, tokens(25))))
    // 30, then 55, 80, 105: the call that crosses the limit is the last one admitted.
    assert.equal(calls.filter((call) => call.status === 'fulfilled').length, 3)
  })

  test('a reservation settled after its window ended leaves that window as it was, and charges the excess to the current one', async () => {
    let now = Date.UTC(2026, 9, 10, 23, 59)
    const spender: Client = { ...client, name: `${clientName}-late`, tokens: { day: 100, month: 1000 } }
    const budgets = budgetsOn(() => now)
    const reservation = await budgets.reserve(spender, tokens(10))
    now = Date.UTC(2026, 9, 11, 0, 1)
    await budgets.settle(spender, reservation, tokens(30))
    const spent = async () => (await budgets.usage(spender)).windows.map(({ budget, spent }) => `${budget} ${spent}`)
    // The new day has the 20 beyond the reservation; the month, still running, settled to 30.
    assert.deepEqual(await spent(), ['tokensPerDay 20', 'tokensPerMonth 30'])
    now = Date.UTC(2026, 9, 10, 23, 59, 30)
    assert.deepEqual(await spent(), ['tokensPerDay 10', 'tokensPerMonth 30'])
  })

  test('USD budgets count millionths of a dollar per UTC day and month, and the status read shows every window', async () => {
    let now = Date.UTC(2026, 6, 31, 22)
    const refused: string[] = []
    const spender: Client = { ...client, name: `${clientName}-usd`, requestsPerMinute: 10, tokens: { minute: 1000 }, usd: { day: 0.05, month: 0.08 } }
    const budgets = budgetsOn(() => now, (_client, limit) => refused.push(limit))
    const usd = (microUsd: number) => ({ tokens: 0, microUsd })
    const first = await budgets.reserve(spender, usd(40_000))
    // Still under $0.05: the call that crosses it is admitted, and the next is not.
    const crossing = await budgets.reserve(spender, usd(40_000))
    await assert.rejects(budgets.reserve(spender, usd(1)), /has spent its \$0\.05 per day \(usdPerDay\); the limit resets at 2026-08-01T00:00:00\.000Z \(in 7200 s\)/)
    assert.deepEqual(refused, ['usd_per_day'])
    await budgets.settle(spender, first, { tokens: 10, microUsd: 30_000 })
    await budgets.settle(spender, crossing, usd(0))
    assert.deepEqual(await budgets.usage(spender), {
      client: spender.name,
      windows: [
        { budget: 'requestsPerMinute', unit: 'requests', spent: 0, limit: 10, resetsAt: new Date(now + 60_000).toISOString() },
        { budget: 'tokensPerMinute', unit: 'tokens', spent: 10, limit: 1000, resetsAt: '2026-07-31T22:01:00.000Z' },
        { budget: 'usdPerDay', unit: 'usd', spent: 0.03, limit: 0.05, resetsAt: '2026-08-01T00:00:00.000Z' },
        { budget: 'usdPerMonth', unit: 'usd', spent: 0.03, limit: 0.08, resetsAt: '2026-08-01T00:00:00.000Z' },
      ],
    })
    // A new UTC day and month: both start afresh.
    now = Date.UTC(2026, 7, 1, 0, 0, 1)
    await budgets.settle(spender, await budgets.reserve(spender, usd(1)), usd(80_000))
    await assert.rejects(budgets.reserve(spender, usd(1)), (err: ToolError) => {
      assert.equal(err.code, 'usd_limit_reached')
      assert.equal(err.details.retryAfterSeconds, 86_399)
      return true
    })
    assert.deepEqual(refused, ['usd_per_day', 'usd_per_day'])
  })
}
