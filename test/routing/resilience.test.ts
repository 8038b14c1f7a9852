import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ManualClock } from '../support/clock.js'
import { errorBody } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta, textOf } from '../support/results.js'
import { type RoutedStack, routedResult, startRoutedStack } from '../support/routing.js'
import { waitFor } from '../support/wait-for.js'

const chatOf = (model: string) => ({ name: 'chat', arguments: { model, prompt: 'hello' } })
const serverError = { status: 500, json: errorBody('The server had an error while processing your request.', 'server_error') }
/** The circuits' cool-down: the tests move the router's clock past it rather than wait it out. */
const COOLDOWN_MS = 60_000

interface ProviderReadiness {
  ready: boolean
  circuit: string
  modelCircuits?: Record<string, string>
  lastFailure?: string
  inFlight?: number
  queued?: number
  check: { status: string }
}

async function readiness (stack: Pick<RoutedStack, 'fetch'>): Promise<{ status: number, body: { status: string, reason?: string, checks: { providers: Record<string, ProviderReadiness> } } }> {
  const response = await stack.fetch('/ready')
  return { status: response.status, body: await response.json() as never }
}

describe('circuit breakers, fallbacks and saturation', () => {
  test('a circuit opens after N consecutive failures and stops calling the upstream; after the cool-down one probe closes it', async () => {
    const logs = new LogCapture()
    const clock = new ManualClock()
    const stack = await startRoutedStack({
      providers: [{ name: 'flaky', circuitBreaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS } }],
    }, { LOG_LEVEL: 'info', READY_CHECK_UPSTREAM: 'false' }, logs, { clock: clock.now })
    try {
      const upstream = stack.upstreams.flaky
      upstream?.script('POST /v1/responses', serverError, serverError, serverError)
      for (let call = 0; call < 3; call++) assert.equal(errorMeta(await stack.client.callTool(chatOf('gpt-4.1'))).code, 'upstream_unavailable')
      const open = await stack.client.callTool(chatOf('gpt-4.1'))
      assert.equal(errorMeta(open).code, 'circuit_open')
      assert.ok(Number(errorMeta(open).retryAfterSeconds) >= 1)
      assert.match(textOf(open), /Provider "flaky" kept failing \(last: upstream_unavailable: .*HTTP 500/)
      assert.equal(upstream?.received('POST /v1/responses').length, 3, 'an open circuit makes no upstream call')
      assert.equal(logs.find({ msg: 'circuit of flaky opened: calls fail fast until it is probed again' }).length, 1)

      const whileOpen = await readiness(stack)
      assert.equal(whileOpen.status, 503, 'the only provider cannot serve')
      assert.equal(whileOpen.body.checks.providers.flaky?.circuit, 'open')
      assert.match(whileOpen.body.reason ?? '', /no provider can serve: flaky \(circuit open: upstream_unavailable/)
      const metrics = parseExposition(await (await stack.fetch('/metrics')).text())
      assert.equal(sampleValue(metrics, 'mcp_router_provider_circuit_state', { provider: 'flaky' }), 2)

      clock.advance(COOLDOWN_MS + 1)
      // A second call while the probe is still at the upstream fails fast: half-open lets one probe through.
      let answerProbe = () => {}
      const probeAnswered = new Promise<void>((resolve) => { answerProbe = resolve })
      upstream?.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1', 'probe answer'), until: probeAnswered })
      const probe = stack.client.callTool(chatOf('gpt-4.1'))
      await waitFor(() => upstream?.received('POST /v1/responses').length === 4, 'the probe to reach the upstream')
      assert.equal(errorMeta(await stack.client.callTool(chatOf('gpt-4.1'))).code, 'circuit_open', 'half-open lets one probe through')
      answerProbe()
      assert.equal((await probe).isError, undefined)
      assert.equal(upstream?.received('POST /v1/responses').length, 4)
      assert.equal(logs.find({ msg: 'circuit of flaky closed: calls go through again' }).length, 1)
      assert.equal((await stack.client.callTool(chatOf('gpt-4.1'))).isError, undefined)
      assert.equal((await readiness(stack)).status, 200)
    } finally {
      await stack.close()
    }
  })

  test('a failed probe opens the circuit again', async () => {
    const clock = new ManualClock()
    const stack = await startRoutedStack({ providers: [{ name: 'down', circuitBreaker: { failureThreshold: 1, cooldownMs: COOLDOWN_MS } }] }, { READY_CHECK_UPSTREAM: 'false' }, undefined, { clock: clock.now })
    try {
      const upstream = stack.upstreams.down
      upstream?.script('POST /v1/responses', serverError, serverError)
      await stack.client.callTool(chatOf('gpt-4.1'))
      clock.advance(COOLDOWN_MS + 1)
      assert.equal(errorMeta(await stack.client.callTool(chatOf('gpt-4.1'))).code, 'upstream_unavailable', 'the probe went through, and failed')
      assert.equal(errorMeta(await stack.client.callTool(chatOf('gpt-4.1'))).code, 'circuit_open')
      assert.equal(upstream?.received('POST /v1/responses').length, 2)
    } finally {
      await stack.close()
    }
  })

  test('an open circuit passes calls to the fallback without calling the failing provider; /ready stays 200 while one provider serves', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'a' }, { name: 'b' }],
      aliases: { main: 'a/gpt-4.1' },
      fallbacks: { main: ['b/gpt-4.1'] },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
    })
    try {
      stack.upstreams.a?.script('POST /v1/responses', serverError, serverError)
      for (let call = 0; call < 2; call++) assert.equal(routedResult(await stack.client.callTool(chatOf('main'))).provider, 'b')
      const answered = routedResult(await stack.client.callTool(chatOf('main')))
      assert.deepEqual(answered.attempts, [{ provider: 'a', model: 'gpt-4.1', outcome: 'circuit_open' }, { provider: 'b', model: 'gpt-4.1', outcome: 'ok' }])
      assert.equal(stack.upstreams.a?.received('POST /v1/responses').length, 2)
      const { status, body } = await readiness(stack)
      assert.equal(status, 200)
      assert.equal(body.checks.providers.a?.ready, false)
      assert.equal(body.checks.providers.a?.circuit, 'open')
      assert.equal(body.checks.providers.b?.ready, true)
      assert.equal(body.checks.providers.b?.check.status, 'ok')
    } finally {
      await stack.close()
    }
  })

  test('"overloaded" opens the circuit of that model only, and falls back', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'a', circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } }, { name: 'b' }],
      fallbacks: { 'gpt-4.1': ['b/gpt-4.1'] },
    }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      stack.upstreams.a?.script('POST /v1/responses', { status: 503, json: errorBody('That model is currently overloaded with other requests.', 'server_error') })
      assert.equal(routedResult(await stack.client.callTool(chatOf('a/gpt-4.1'))).provider, 'b')
      assert.equal(routedResult(await stack.client.callTool(chatOf('a/gpt-4.1'))).attempts[0]?.outcome, 'circuit_open')
      assert.equal(routedResult(await stack.client.callTool(chatOf('a/gpt-4.1-mini'))).provider, 'a', 'the provider\'s other models still answer')
      const { body } = await readiness(stack)
      assert.equal(body.checks.providers.a?.circuit, 'closed')
      assert.deepEqual(body.checks.providers.a?.modelCircuits, { 'gpt-4.1': 'open' })
    } finally {
      await stack.close()
    }
  })

  test('a client\'s own short timeout_ms does not count against the provider', async () => {
    const stack = await startRoutedStack({ providers: [{ name: 'slow', circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } }] }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      stack.upstreams.slow?.script('POST /v1/responses', { delayMs: 300, json: stack.upstreams.slow.responseBody('gpt-4.1', 'late') })
      const result = await stack.client.callTool({ name: 'chat', arguments: { model: 'gpt-4.1', prompt: 'x', timeout_ms: 50 } })
      assert.equal(errorMeta(result).code, 'timeout')
      assert.equal((await stack.client.callTool(chatOf('gpt-4.1'))).isError, undefined, 'the circuit stayed closed')
    } finally {
      await stack.close()
    }
  })

  test('beyond maxConcurrency calls wait in a bounded queue; a full queue or a long wait is "provider saturated"', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'small', maxConcurrency: 1, maxQueued: 1, queueTimeoutMs: 150 }],
    }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      const upstream = stack.upstreams.small
      const slow = { delayMs: 400, json: upstream?.responseBody('gpt-4.1', 'slow') }
      upstream?.script('POST /v1/responses', slow)
      const running = stack.client.callTool(chatOf('gpt-4.1'))
      await waitFor(() => (upstream?.received('POST /v1/responses').length ?? 0) === 1, 'the first call to be running')
      const queued = stack.client.callTool(chatOf('gpt-4.1'))
      await waitFor(async () => (await readiness(stack)).body.checks.providers.small?.queued === 1, 'the second call to wait')
      const started = performance.now()
      const refused = await stack.client.callTool(chatOf('gpt-4.1'))
      assert.equal(errorMeta(refused).code, 'provider_saturated')
      assert.ok(performance.now() - started < 150, 'a full queue refuses at once')
      assert.match(textOf(refused), /Provider "small" is saturated: 1 calls are running and 1 waiting, the most it allows \(maxConcurrency 1\)/)
      const waited = await queued
      assert.equal(errorMeta(waited).code, 'provider_saturated')
      assert.match(textOf(waited), /no call slot came free within 150 ms/)
      assert.equal((await running).isError, undefined)
      assert.equal(upstream?.received('POST /v1/responses').length, 1, 'refused calls never reached the upstream')
      assert.equal((await stack.client.callTool(chatOf('gpt-4.1'))).isError, undefined, 'the slot is free again')
    } finally {
      await stack.close()
    }
  })

  test('a queued call gets the slot when the running one ends', async () => {
    const stack = await startRoutedStack({ providers: [{ name: 'small', maxConcurrency: 1 }] }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      const upstream = stack.upstreams.small
      upstream?.script('POST /v1/responses', { delayMs: 150, json: upstream.responseBody('gpt-4.1', 'first') })
      const results = await Promise.all([stack.client.callTool(chatOf('gpt-4.1')), stack.client.callTool(chatOf('gpt-4.1'))])
      assert.deepEqual(results.map((result) => result.isError), [undefined, undefined])
      const [first, second] = upstream?.received('POST /v1/responses') ?? []
      assert.ok(first && second && second.at - first.at >= 140, 'the second waited for the first')
    } finally {
      await stack.close()
    }
  })

  test('a provider past its own timeoutMs falls back within the call\'s deadline', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'slow', timeoutMs: 100 }, { name: 'quick' }],
      fallbacks: { 'slow/gpt-4.1': ['quick/gpt-4.1'] },
    }, { READY_CHECK_UPSTREAM: 'false' })
    try {
      stack.upstreams.slow?.script('POST /v1/responses', { delayMs: 2000, json: stack.upstreams.slow.responseBody('gpt-4.1', 'too late') })
      const started = performance.now()
      const result = routedResult(await stack.client.callTool(chatOf('slow/gpt-4.1')))
      assert.deepEqual(result.attempts.map(({ provider, outcome }) => `${provider}:${outcome}`), ['slow:timeout', 'quick:ok'])
      assert.ok(performance.now() - started < 1000, 'the slow provider was not waited for')
    } finally {
      await stack.close()
    }
  })
})
