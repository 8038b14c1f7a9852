import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, writeClientsFile } from '../support/client-keys.js'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, type Sample, sampleValue } from '../support/prometheus.js'
import { connectClient, postMcp, startRouter, startStack, type TestStack } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

async function scrape (url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers })
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parseExposition(await response.text())
}

describe('GET /metrics', () => {
  let stack: TestStack

  before(async () => {
    // A price of 1 USD per input token and 2 per output token makes the expected cost exact.
    stack = await startStack({ MODEL: 'gpt-4.1-mini', MODEL_PRICES: JSON.stringify({ 'gpt-4.1-mini': { input: 1_000_000, output: 2_000_000 } }) })
  })
  after(async () => { await stack.close() })

  test('counts tool calls, tokens and cost by model after known calls', async () => {
    const { client, router } = stack
    const before = await scrape(router.url)
    for (let i = 0; i < 2; i++) {
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
      assert.equal(result.isError, undefined)
    }
    const after = await scrape(router.url)
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels)

    assert.equal(delta('mcp_router_tool_call_duration_seconds_count', { tool: 'chat', model: 'gpt-4.1-mini', outcome: 'ok' }), 2)
    assert.equal(delta('mcp_router_tokens_total', { model: 'gpt-4.1-mini', type: 'input' }), 22)
    assert.equal(delta('mcp_router_tokens_total', { model: 'gpt-4.1-mini', type: 'output' }), 14)
    // 11 input tokens × 1 USD + 7 output tokens × 2 USD, twice.
    assert.equal(delta('mcp_router_cost_usd_total', { model: 'gpt-4.1-mini' }), 50)
    assert.equal(delta('mcp_router_upstream_request_duration_seconds_count', { operation: 'chat', outcome: 'ok', provider: 'openai' }), 2)
    assert.equal(delta('mcp_router_mcp_messages_total', { method: 'tools/call', outcome: 'ok' }), 2)
    assert.ok(delta('mcp_router_http_request_duration_seconds_count', { method: 'POST', route: '/mcp', status_code: '200' }) >= 2)
  })

  test('labels failures by error code and upstream status', async () => {
    const { client, router, upstream } = stack
    const before = await scrape(router.url)
    upstream.script('POST /v1/responses', { status: 429, json: errorBody('Slow down', 'rate_limit_error'), headers: { 'retry-after': '1' } })
    await client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
    upstream.script('GET /v1/models', { status: 500, json: errorBody('Boom', 'server_error') })
    await client.callTool({ name: 'list_models', arguments: {} })
    const after = await scrape(router.url)
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels)

    assert.equal(delta('mcp_router_tool_call_duration_seconds_count', { tool: 'chat', model: 'gpt-4.1-mini', outcome: 'rate_limited' }), 1)
    assert.equal(delta('mcp_router_upstream_errors_total', { operation: 'chat', status: '429', code: 'rate_limited' }), 1)
    assert.equal(delta('mcp_router_upstream_errors_total', { operation: 'list_models', status: '500', code: 'upstream_unavailable' }), 1)
    assert.equal(delta('mcp_router_tool_call_duration_seconds_count', { tool: 'list_models', model: 'none', outcome: 'upstream_unavailable' }), 1)
    assert.equal(delta('mcp_router_mcp_messages_total', { method: 'tools/call', outcome: 'tool_error' }), 2)
    assert.equal(delta('mcp_router_tokens_total', { model: 'gpt-4.1-mini', type: 'input' }), 0, 'a failed call spends nothing')
  })

  test('keeps label values bounded: unknown models and methods fold into other, no ids', async () => {
    const { client, router, upstream } = stack
    upstream.script('POST /v1/responses', { status: 404, json: errorBody('The model does not exist', 'invalid_request_error', 'model_not_found') })
    await client.callTool({ name: 'chat', arguments: { prompt: 'Hello', model: 'made-up-model-4d8f' } })
    await postMcp(router, { jsonrpc: '2.0', id: 1, method: 'made/up/method-4d8f' })
    const response = await fetch(`${router.url}/metrics`)
    const text = await response.text()
    assert.ok(!text.includes('made-up'), 'no client-invented model or method name becomes a label')
    const samples = parseExposition(text)
    assert.equal(sampleValue(samples, 'mcp_router_tool_call_duration_seconds_count', { tool: 'chat', model: 'other', outcome: 'model_not_found' }), 1)
    assert.equal(sampleValue(samples, 'mcp_router_mcp_messages_total', { method: 'other', outcome: '-32601' }), 1)
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) assert.doesNotMatch(value, /^[0-9a-f]{8}-[0-9a-f]{4}-/, `${sample.name} has no id label`)
    }
  })

  test('never labels a model name the upstream echoes back unless it looks like one: no newline, no megabyte', async () => {
    const { client, router } = stack
    const hostileNames = ['gpt-4.1-mini\nmcp_router_forged_total 1', `huge-${'x'.repeat(1024 * 1024)}`]
    for (const model of hostileNames) {
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'Hello', model } })
      assert.equal(result.isError, undefined, 'the fake upstream answers with the name it was sent')
    }
    const text = await (await fetch(`${router.url}/metrics`)).text()
    assert.ok(text.length < 200_000, `/metrics stays small (${text.length} characters)`)
    assert.ok(!text.includes('forged') && !text.includes('huge-'), 'neither name reaches a label')
    const samples = parseExposition(text)
    assert.ok(sampleValue(samples, 'mcp_router_tool_call_duration_seconds_count', { tool: 'chat', model: 'other', outcome: 'ok' }) >= 2)
    assert.equal(sampleValue(samples, 'mcp_router_forged_total'), 0)
  })

  test('shows in-flight calls while they run, and process metrics', async () => {
    const { client, router, upstream } = stack
    upstream.script('POST /v1/responses', { delayMs: 400 })
    const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } })
    await waitFor(async () => sampleValue(await scrape(router.url), 'mcp_router_in_flight_tool_calls') === 1, 'the call to be in flight')
    await call
    const samples = await scrape(router.url)
    assert.equal(sampleValue(samples, 'mcp_router_in_flight_tool_calls'), 0)
    assert.ok(sampleValue(samples, 'process_resident_memory_bytes') > 0)
  })
})

describe('GET /metrics in stateful mode', () => {
  test('counts open sessions', async () => {
    const stack = await startStack({ MCP_SESSIONS: 'stateful' })
    try {
      const second = await connectClient(stack.router)
      assert.equal(sampleValue(await scrape(stack.router.url), 'mcp_router_mcp_sessions'), 2)
      await (second.transport as StreamableHTTPClientTransport).terminateSession()
      await second.close()
      await waitFor(async () => sampleValue(await scrape(stack.router.url), 'mcp_router_mcp_sessions') === 1, 'the session to close')
    } finally {
      await stack.close()
    }
  })
})

describe('GET /metrics with METRICS_TOKEN', () => {
  test('needs the bearer token', async () => {
    const token = 'metrics-token-0123456789'
    const stack = await startStack({ METRICS_TOKEN: token })
    try {
      const anonymous = await fetch(`${stack.router.url}/metrics`)
      assert.equal(anonymous.status, 401)
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="metrics"')
      assert.match((await anonymous.json() as { error: string }).error, /METRICS_TOKEN/)
      const wrong = await fetch(`${stack.router.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-wrong-value' } })
      assert.equal(wrong.status, 401)
      assert.ok((await scrape(stack.router.url, { authorization: `Bearer ${token}` })).length > 0)
    } finally {
      await stack.close()
    }
  })
})

describe('GET /metrics with client keys', () => {
  test('without METRICS_TOKEN it is refused, saying why, and start-up warns of it', async () => {
    const logs = new LogCapture()
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile(), LOG_LEVEL: 'warn' }, { logs })
    try {
      const response = await fetch(`${router.url}/metrics`)
      assert.equal(response.status, 403)
      const body = await response.text()
      assert.match(body, /client keys are configured, so GET \/metrics needs a METRICS_TOKEN/)
      assert.doesNotMatch(body, /team-a|mcp_router_/, 'no client name, no sample')
      const [warning] = logs.lines.filter((line) => String(line.msg).startsWith('GET /metrics is refused'))
      assert.equal(warning?.level, 40)
      assert.match(String(warning?.msg), /Set METRICS_TOKEN/)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('with METRICS_TOKEN it is served for the token', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile(), ...METRICS_TOKEN_ENV })
    try {
      assert.equal((await fetch(`${router.url}/metrics`)).status, 401)
      assert.ok((await scrape(router.url, METRICS_AUTHORIZATION)).length > 0)
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})
