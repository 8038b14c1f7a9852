import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LogCapture } from '../support/logs.js'
import { parseExposition } from '../support/prometheus.js'
import { errorMeta } from '../support/results.js'
import { routedResult, startRoutedStack } from '../support/routing.js'
import { waitFor } from '../support/wait-for.js'

const chatOf = (model: string) => ({ name: 'chat', arguments: { model, prompt: 'hello' } })

describe('reloading the routing configuration', () => {
  test('SIGHUP applies a valid file without dropping the call in flight, and keeps the old one when the new one is invalid', async () => {
    const logs = new LogCapture()
    const config = { providers: [{ name: 'a' }, { name: 'b' }], aliases: { fast: 'a/gpt-4.1-mini' } }
    const stack = await startRoutedStack(config, { LOG_LEVEL: 'info' }, logs)
    try {
      const { a, b } = stack.upstreams
      a?.script('POST /v1/responses', { delayMs: 300, json: a.responseBody('gpt-4.1-mini', 'from a, slowly') })
      const inFlight = stack.client.callTool(chatOf('fast'))
      await waitFor(() => (a?.received('POST /v1/responses').length ?? 0) === 1, 'the call to be running')

      await stack.writeConfig({ ...config, aliases: { fast: 'b/gpt-4.1-mini' } })
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => logs.find({ msg: 'routing configuration reloaded' }).length === 1, 'the reload')
      const [reloaded] = logs.find({ msg: 'routing configuration reloaded' })
      assert.deepEqual(reloaded?.kept, ['a', 'b'], 'unchanged providers are carried over')
      assert.equal(routedResult(await stack.client.callTool(chatOf('fast'))).provider, 'b', 'new calls follow the new file')
      const first = await inFlight
      assert.equal(first.isError, undefined)
      assert.equal(routedResult(first).provider, 'a', 'the running call finished where it started')

      await stack.writeConfig('providers:\n  - name: a\n    baseURL: not-a-url\n')
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => logs.lines.some((line) => String(line.msg).startsWith('routing configuration not reloaded')), 'the rejection')
      const [rejected] = logs.lines.filter((line) => String(line.msg).startsWith('routing configuration not reloaded'))
      assert.equal(rejected?.level, 50)
      assert.match(String(rejected?.msg), /the previous one stays: Invalid configuration: ROUTER_CONFIG \(.*routing\.yaml\): providers\[0\]\.baseURL must be an http:\/\/ or https:\/\/ URL/)
      assert.equal(routedResult(await stack.client.callTool(chatOf('fast'))).provider, 'b', 'the previous configuration stays')
      assert.equal(b?.received('POST /v1/responses').length, 2)
    } finally {
      await stack.close()
    }
  })

  test('ROUTER_CONFIG_WATCH=true reloads when the file changes; a removed provider is no longer routable', async () => {
    const logs = new LogCapture()
    const stack = await startRoutedStack({ providers: [{ name: 'a' }, { name: 'b' }] }, { LOG_LEVEL: 'info', ROUTER_CONFIG_WATCH: 'true' }, logs)
    try {
      assert.equal(routedResult(await stack.client.callTool(chatOf('b/gpt-4.1'))).provider, 'b')
      await stack.writeConfig({ providers: [{ name: 'a' }], allowModels: ['gpt-4.1'] })
      await waitFor(() => logs.find({ msg: 'routing configuration reloaded', reason: 'file changed' }).length === 1, 'the reload on change', 5000)
      const refused = await stack.client.callTool(chatOf('gpt-4.1-mini'))
      assert.equal(errorMeta(refused).code, 'model_not_allowed')
      const listed = (await stack.client.callTool({ name: 'list_models', arguments: {} })).structuredContent as { models: Array<{ route: string }> }
      assert.deepEqual(listed.models.map((model) => model.route), ['a/gpt-4.1'])
    } finally {
      await stack.close()
    }
  })

  test('a provider the reload removes, or whose circuit breaker it removes, no longer reports a circuit state', async () => {
    const logs = new LogCapture()
    const breaker = { failureThreshold: 3, cooldownMs: 1000 }
    const stack = await startRoutedStack({ providers: [{ name: 'a', circuitBreaker: breaker }, { name: 'b', circuitBreaker: breaker }, { name: 'c', circuitBreaker: breaker }] }, { LOG_LEVEL: 'info' }, logs)
    // The sample itself, not sampleValue (which reads a missing one as 0).
    const circuitOf = async (provider: string) => parseExposition(await (await stack.fetch('/metrics')).text())
      .find((sample) => sample.name === 'mcp_router_provider_circuit_state' && sample.labels.provider === provider)?.value
    try {
      assert.deepEqual([await circuitOf('a'), await circuitOf('b'), await circuitOf('c')], [0, 0, 0])
      await stack.writeConfig({ providers: [{ name: 'a', circuitBreaker: breaker }, { name: 'b', circuitBreaker: { enabled: false } }] })
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => logs.find({ msg: 'routing configuration reloaded' }).length === 1, 'the reload')
      assert.deepEqual([await circuitOf('a'), await circuitOf('b'), await circuitOf('c')], [0, undefined, undefined])
    } finally {
      await stack.close()
    }
  })

  test('a key that only the reloaded file brings is redacted from logged bodies too', async () => {
    const logs = new LogCapture()
    // Not shaped like an OpenAI key, so only the list of the router's own keys can catch it.
    const azureKey = 'azure-0123456789abcdef0123456789abcdef'
    const stack = await startRoutedStack({ providers: [{ name: 'a' }] }, { LOG_LEVEL: 'info', LOG_BODIES: 'full', AZURE_TEST_KEY: azureKey }, logs)
    try {
      await stack.writeConfig({ providers: [{ name: 'a' }, { name: 'azure', baseURL: stack.upstreams.a?.baseURL, apiKeyEnv: 'AZURE_TEST_KEY' }] })
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => logs.find({ msg: 'routing configuration reloaded' }).length === 1, 'the reload')
      await stack.client.callTool({ name: 'echo', arguments: { text: `the key is ${azureKey}` } })
      const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'echo' })
      assert.match(String(line?.result), /the key is \[redacted\]/)
      assert.ok(!logs.raw.join('\n').includes(azureKey))
    } finally {
      await stack.close()
    }
  })
})
