import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client as RouterClient } from '../../src/access/client-keys.js'
import { WindowCounters } from '../../src/shared-state/window-counters.js'
import { budgetResetCases } from '../support/budget-cases.js'
import { bearer, METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta, textOf } from '../support/results.js'
import { connectClient, initializeMessage, MCP_HEADERS, postMcp, type RunningRouter, startRouter } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

const teamA = { authorization: bearer(TEAM_A_KEY).headers.authorization }

describe('request rate per client key', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter

  before(async () => {
    upstream = await FakeOpenAI.start()
    const clientsFile = await writeClientsFile({ requestsPerMinute: 4 })
    router = await startRouter(upstream, { CLIENT_KEYS_FILE: clientsFile, ...METRICS_TOKEN_ENV })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('over its requestsPerMinute a key gets 429 with Retry-After and RateLimit headers; other keys go on', async () => {
    const teamA = { authorization: bearer(TEAM_A_KEY).headers.authorization }
    for (let request = 1; request <= 4; request++) {
      const response = await postMcp(router, initializeMessage, teamA)
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('ratelimit-limit'), '4')
      assert.equal(response.headers.get('ratelimit-remaining'), String(4 - request))
      await response.body?.cancel()
    }
    const refused = await postMcp(router, initializeMessage, teamA)
    assert.equal(refused.status, 429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`)
    assert.equal(refused.headers.get('ratelimit-remaining'), '0')
    const body = await refused.json() as { error: { message: string } }
    assert.match(body.error.message, /^Too Many Requests: client "team-a" may send 4 requests per minute to \/mcp \(its requestsPerMinute\); retry in/)

    // team-b has no requestsPerMinute and RATE_LIMIT_RPM is 0: no limit, no headers.
    const other = await connectClient(router, bearer(TEAM_B_KEY))
    assert.equal((await other.callTool({ name: 'echo', arguments: { text: 'still here' } })).isError, undefined)
    await other.close()

    const metrics = parseExposition(await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
    assert.equal(sampleValue(metrics, 'mcp_router_limit_refusals_total', { client: 'team-a', limit: 'requests_per_minute' }), 1)
    // The budgets' status read counts the same requests, the refused one included.
    const [requests] = (await router.app.budgets.usage(router.app.clientKeys?.named('team-a') as RouterClient)).windows
    assert.deepEqual({ ...requests, resetsAt: undefined }, { budget: 'requestsPerMinute', unit: 'requests', spent: 5, limit: 4, resetsAt: undefined })
    assert.ok(Date.parse(requests?.resetsAt ?? '') - Date.now() <= 60_000)
  })
})

describe('request rate per address when the router is open', () => {
  test('RATE_LIMIT_RPM limits each address', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { RATE_LIMIT_RPM: '2' })
    try {
      for (let request = 0; request < 2; request++) assert.equal((await postMcp(router, initializeMessage)).status, 200)
      const refused = await postMcp(router, initializeMessage)
      assert.equal(refused.status, 429)
      assert.match((await refused.json() as { error: { message: string } }).error.message, /address 127\.0\.0\.1 may send 2 requests per minute to \/mcp \(RATE_LIMIT_RPM\)/)
      assert.equal((await fetch(`${router.url}/health`)).status, 200, 'probes are never limited')
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

describe('request rate per address behind a proxy (TRUST_PROXY)', () => {
  const forwardedFor = (address: string) => ({ 'x-forwarded-for': address })

  test('with the proxy trusted, each forwarded client address has its own limit', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { RATE_LIMIT_RPM: '2', TRUST_PROXY: 'loopback' })
    try {
      for (let request = 0; request < 2; request++) assert.equal((await postMcp(router, initializeMessage, forwardedFor('203.0.113.7'))).status, 200)
      const refused = await postMcp(router, initializeMessage, forwardedFor('203.0.113.7'))
      assert.equal(refused.status, 429)
      assert.match((await refused.json() as { error: { message: string } }).error.message, /address 203\.0\.113\.7 may send 2 requests per minute/)
      assert.equal((await postMcp(router, initializeMessage, forwardedFor('198.51.100.9'))).status, 200)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('without it, X-Forwarded-For is not believed: a client cannot step around its limit', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { RATE_LIMIT_RPM: '2' })
    try {
      for (const address of ['203.0.113.7', '203.0.113.8']) assert.equal((await postMcp(router, initializeMessage, forwardedFor(address))).status, 200)
      const refused = await postMcp(router, initializeMessage, forwardedFor('203.0.113.9'))
      assert.equal(refused.status, 429)
      assert.match((await refused.json() as { error: { message: string } }).error.message, /address 127\.0\.0\.1 may send 2 requests per minute/)
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

describe('tokens per minute', () => {
  test('a client past its tokensPerMinute gets token_limit_reached with the reset time, without an upstream call', async () => {
    const upstream = await FakeOpenAI.start()
    const clientsFile = await writeClientsFile({ tokensPerMinute: 30 })
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: clientsFile, ...METRICS_TOKEN_ENV })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      // Each answer of the fake upstream spends 18 tokens: the second call crosses 30 and finishes.
      for (let call = 0; call < 2; call++) assert.equal((await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })).isError, undefined)
      const before = upstream.received('POST /v1/responses').length
      const refused = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(refused.isError, true)
      const error = errorMeta(refused)
      assert.equal(error.code, 'token_limit_reached')
      assert.equal(error.retryable, true)
      assert.ok(Number(error.retryAfterSeconds) >= 1 && Number(error.retryAfterSeconds) <= 60)
      assert.match(textOf(refused), /Client "team-a" has used its 30 tokens per minute \(tokensPerMinute\); the limit resets at \d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z/)
      assert.equal(upstream.received('POST /v1/responses').length, before, 'no upstream call')
      // Tools that spend no tokens still work.
      assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, undefined)
      const metrics = parseExposition(await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
      assert.equal(sampleValue(metrics, 'mcp_router_limit_refusals_total', { client: 'team-a', limit: 'tokens_per_minute' }), 1)
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('token reservations', () => {
  test('50 chats at once under a 100-token budget spend at most the limit and the one call that crosses it', async () => {
    const upstream = await FakeOpenAI.start()
    const clientsFile = await writeClientsFile({ tokensPerDay: 100 })
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: clientsFile, ...METRICS_TOKEN_ENV })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      // Every answer takes two seconds, so the burst is admitted (or not) before the first call
      // ends; each spends 18 tokens.
      upstream.script('POST /v1/responses', ...Array.from({ length: 50 }, () => ({ delayMs: 2000, json: upstream.responseBody('gpt-4.1-mini', 'slow') })))
      const results = await Promise.all(Array.from({ length: 50 }, async () => client.callTool({ name: 'chat', arguments: { prompt: 'hi', max_tokens: 20 } })))
      const admitted = results.filter((result) => result.isError === undefined)
      // Each reserves 1 input token and its max_tokens (21): the fifth reservation crosses 100. (On a
      // machine so loaded that the first five settle, 90 spent, before the burst is through, a sixth
      // gets in: still within the limit plus the call that crosses it.)
      assert.ok(admitted.length === 5 || admitted.length === 6, `${admitted.length} calls admitted`)
      assert.ok(admitted.length * 18 <= 100 + 18, `${admitted.length * 18} tokens spent`)
      assert.equal(upstream.received('POST /v1/responses').length, admitted.length, 'refused calls never reach the upstream')
      assert.ok(results.filter((result) => result.isError).every((result) => errorMeta(result).code === 'token_limit_reached'))
      // Settled to the tokens really spent: the reservations were given back.
      const [tokens] = (await router.app.budgets.usage(router.app.clientKeys?.named('team-a') as RouterClient)).windows
      assert.equal(tokens?.spent, admitted.length * 18)
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('streams cut off', () => {
  test('a streamed chat whose client hangs up before the end is charged its input and the text streamed, as an estimate', async () => {
    const upstream = await FakeOpenAI.start()
    const logs = new LogCapture()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 20 }), LOG_LEVEL: 'info' }, { logs })
    try {
      // 400 characters in 100 deltas, 20 ms apart: the client hangs up after some 80, well before the usage.
      upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'abcd'.repeat(100)), eventDelayMs: 20 })
      const connection = new AbortController()
      const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hi' }, _meta: { progressToken: 'p' } } }
      const response = await fetch(router.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, ...teamA }, body: JSON.stringify(call), signal: connection.signal })
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      let streamed = ''
      while ((streamed.match(/abcd/g) ?? []).length < 20) streamed += new TextDecoder().decode((await reader.read()).value)
      connection.abort()
      await waitFor(() => router.app.inFlightCalls.size === 0, 'the call to end')
      const [estimate] = logs.find({ tokensEstimated: true, msg: 'the stream broke off before its usage came: its input and streamed text are charged as an estimate' })
      assert.ok(estimate, 'the estimate is logged as one')
      assert.equal(estimate.inputTokens, 1)
      assert.ok(Number(estimate.outputTokens) >= 20 && Number(estimate.outputTokens) < 100, `${String(estimate.outputTokens)} output tokens`)
      // More than the 20-token budget was spent: the next call is refused.
      const client = await connectClient(router, bearer(TEAM_A_KEY))
      assert.equal(errorMeta(await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })).code, 'token_limit_reached')
      await client.close()
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

describe('background responses', () => {
  const spentTokens = async (router: RunningRouter) => (await router.app.budgets.usage(router.app.clientKeys?.named('team-a') as RouterClient)).windows.find(({ budget }) => budget === 'tokensPerDay')?.spent

  test('a background response that outlasts its chat keeps its reservation, and is charged once by the get_response that finds it finished', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.backgroundPolls = 1
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 50 }), POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0', ...METRICS_TOKEN_ENV })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      const started = []
      for (let call = 0; call < 8; call++) started.push(await client.callTool({ name: 'chat', arguments: { prompt: 'later', background: true, max_tokens: 10 } }))
      // Each reserves 12 tokens (2 of input, 10 of output) and keeps them while its response runs:
      // the fifth crosses 50.
      const admitted = started.filter((result) => result.isError === undefined)
      assert.equal(admitted.length, 5)
      assert.ok(started.slice(5).every((result) => errorMeta(result).code === 'token_limit_reached'))
      assert.equal(await spentTokens(router), 60)
      for (const result of admitted) {
        const { responseId } = result.structuredContent as { responseId: string }
        const status = async () => ((await client.callTool({ name: 'get_response', arguments: { response_id: responseId } })).structuredContent as { status: string }).status
        assert.equal(await status(), 'in_progress')
        assert.equal(await status(), 'completed')
        // Fetched again: charged already.
        assert.equal(await status(), 'completed')
      }
      // Each settled from its 12 reserved to the 18 it spent, once.
      assert.equal(await spentTokens(router), 90)
      const metrics = parseExposition(await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
      const counted = metrics.filter((sample) => sample.name === 'mcp_router_tokens_total' && sample.labels.client === 'team-a').reduce((sum, sample) => sum + sample.value, 0)
      assert.equal(counted, 90)
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })

  test('a chat continuing an uncharged background response with previous_response_id charges it, once', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.backgroundPolls = 0
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 1000 }), POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      const started = await client.callTool({ name: 'chat', arguments: { prompt: 'later', background: true, max_tokens: 10 } })
      const { responseId } = started.structuredContent as { responseId: string }
      assert.equal(await spentTokens(router), 12)
      const continued = await client.callTool({ name: 'chat', arguments: { prompt: 'more', previous_response_id: responseId } })
      assert.equal(textOf(continued), 'echo: more')
      // The background response's 18 and the continuation's 18.
      assert.equal(await spentTokens(router), 36)
      assert.equal(upstream.received('GET /v1/responses/{id}').length, 1, 'the router fetched the finished response once to learn its usage')
      await client.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      await client.callTool({ name: 'chat', arguments: { prompt: 'again', previous_response_id: responseId } })
      assert.equal(await spentTokens(router), 54, 'charged once: only the second continuation adds its own 18')
      assert.equal(upstream.received('GET /v1/responses/{id}').length, 2, 'only get_response fetched it again')
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('USD budgets', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  let client: Awaited<ReturnType<typeof connectClient>>

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ models: ['*'], usdPerDay: 0.1, usdPerMonth: 5 }), ...METRICS_TOKEN_ENV })
    client = await connectClient(router, bearer(TEAM_A_KEY))
  })
  after(async () => {
    await client.close()
    await router.close()
    await upstream.close()
  })

  test('DALL·E images, which report no usage, are spent by the image until usdPerDay refuses the next with its reset time', async () => {
    // dall-e-3 at standard quality and 1024x1024 lists at $0.04: 0, 0.04 and 0.08 are under $0.10,
    // the third call crosses it.
    for (let call = 0; call < 3; call++) assert.equal((await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: 'dall-e-3' } })).isError, undefined)
    const before = upstream.received('POST /v1/images/generations').length
    const refused = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: 'dall-e-3', quality: 'hd' } })
    const error = errorMeta(refused)
    assert.equal(error.code, 'usd_limit_reached')
    assert.equal(error.retryable, true)
    assert.ok(Number(error.retryAfterSeconds) >= 1 && Number(error.retryAfterSeconds) <= 86_400)
    assert.match(textOf(refused), /Client "team-a" has spent its \$0\.1 per day \(usdPerDay\); the limit resets at \d{4}-\d\d-\d\dT00:00:00\.000Z \(in \d+ s\)/)
    assert.equal(upstream.received('POST /v1/images/generations').length, before, 'no upstream call')
    // Chats are refused too: the budget is the client's, whatever the tool.
    assert.equal(errorMeta(await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })).code, 'usd_limit_reached')

    const metrics = parseExposition(await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
    assert.equal(sampleValue(metrics, 'mcp_router_limit_refusals_total', { client: 'team-a', limit: 'usd_per_day' }), 2)
    assert.ok(Math.abs(sampleValue(metrics, 'mcp_router_cost_usd_total', { client: 'team-a', model: 'dall-e-3' }) - 0.12) < 1e-9, 'the cost metric prices images the same way')
    const usage = await router.app.budgets.usage(router.app.clientKeys?.named('team-a') as RouterClient)
    assert.deepEqual(usage.windows.map(({ budget, spent, limit }) => ({ budget, spent, limit })), [
      { budget: 'usdPerDay', spent: 0.12, limit: 0.1 },
      { budget: 'usdPerMonth', spent: 0.12, limit: 5 },
    ])
  })
})

describe('USD budgets and models without a price', () => {
  test('under a USD budget a model without a price is refused before any upstream call; gpt-image-1 and embeddings are priced by their tokens', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ models: ['*'], usdPerMonth: 5 }), ...METRICS_TOKEN_ENV })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      const refused = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'mystery-model' } })
      assert.equal(errorMeta(refused).code, 'model_unpriced')
      assert.match(textOf(refused), /model "mystery-model" has no price.*MODEL_PRICES/)
      assert.equal(upstream.received('POST /v1/responses').length, 0)
      // gpt-image-1 reports 10 input and 4160 output tokens: (10 × $5 + 4160 × $40) per million.
      assert.equal((await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: 'gpt-image-1' } })).isError, undefined)
      // text-embedding-3-small: 3 tokens at $0.02 per million, counted as one millionth of a dollar.
      assert.equal((await client.callTool({ name: 'embed', arguments: { input: 'hello', model: 'text-embedding-3-small' } })).isError, undefined)
      const usage = await router.app.budgets.usage(router.app.clientKeys?.named('team-a') as RouterClient)
      assert.deepEqual(usage.windows.map(({ budget, spent }) => ({ budget, spent })), [{ budget: 'usdPerMonth', spent: 0.16645 + 0.000001 }])
      const metrics = parseExposition(await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text())
      assert.equal(sampleValue(metrics, 'mcp_router_limit_refusals_total', { client: 'team-a', limit: 'usd_unpriced_model' }), 1)
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})

describe('token budgets in memory', () => {
  budgetResetCases(() => new WindowCounters(undefined))
})
