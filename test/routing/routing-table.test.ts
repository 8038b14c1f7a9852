import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pino from 'pino'
import type { Client } from '../../src/access/client-keys.js'
import { ToolError } from '../../src/errors.js'
import { toGlob } from '../../src/glob.js'
import { RouterMetrics } from '../../src/observability/metrics.js'
import { PriceTable } from '../../src/observability/prices.js'
import { Provider } from '../../src/routing/provider.js'
import type { ProviderConfig, RoutingConfig } from '../../src/routing/routing-config.js'
import { RoutingTable } from '../../src/routing/routing-table.js'

const dependencies = {
  metrics: new RouterMetrics({
    prices: new PriceTable(),
    knownModels: [],
    sources: { openSessions: () => 0, sessionsTakenOver: () => 0, inFlightCalls: () => 0 },
  }),
  log: pino({ level: 'silent' }),
  checkTtlMs: 60_000,
  modelsTtlMs: 60_000,
  maxBodyBytes: 1024 * 1024,
  clock: Date.now,
}

// Providers that are never called: route() decides from the configuration alone.
function provider (name: string, models: ProviderConfig['models']): Provider {
  return new Provider({ name, baseURL: `http://${name}.invalid/v1`, apiKey: `sk-${name}`, keySource: 'test', api: 'responses', headers: {}, timeoutMs: 1000, concurrency: undefined, models, circuitBreaker: undefined }, dependencies, true)
}

function table (routing: Partial<RoutingConfig>, providers = [provider('openai', '*'), provider('groq', ['llama-3.3-70b', 'mixtral'])]): RoutingTable {
  const config: RoutingConfig = { file: 'routing.yaml', providers: providers.map(({ config }) => config), aliases: {}, fallbacks: {}, allowModels: [], denyModels: [], ...routing }
  return new RoutingTable(config, new Map(providers.map((entry) => [entry.name, entry])))
}

const targets = (route: ReturnType<RoutingTable['route']>) => route.targets.map(({ provider, model }) => `${provider.name}/${model}`)

function client (name: string, models?: string[]): Client {
  return {
    name,
    models: models && { globs: models, patterns: models.map(toGlob) },
    requestsPerMinute: undefined,
    tokens: {},
    usd: {},
    operator: false,
    hasKey: true,
  }
}

const refusedAs = (code: string, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ToolError)
  assert.equal(err.code, code)
  assert.match(err.message, pattern)
  return true
}

describe('how a model name reaches a provider (RoutingTable.route)', () => {
  test('provider/model goes to that provider; a bare name to the provider listing it, else to one that serves "*"', () => {
    const routes = table({})
    assert.deepEqual(targets(routes.route('groq/mixtral')), ['groq/mixtral'])
    assert.deepEqual(targets(routes.route('llama-3.3-70b')), ['groq/llama-3.3-70b'])
    assert.deepEqual(targets(routes.route('gpt-4.1')), ['openai/gpt-4.1'])
    assert.deepEqual(targets(routes.route('openai/gpt-4.1/2025')), ['openai/gpt-4.1/2025'], 'only the first segment names the provider')
    assert.equal(routes.route('gpt-4.1').requested, 'gpt-4.1')
  })

  test('an alias leads to its target; fallbacks follow in order, by the requested name or the target\'s, without repeats', () => {
    const routes = table({
      aliases: { fast: 'groq/llama-3.3-70b', smart: 'gpt-4.1' },
      fallbacks: { fast: ['groq/mixtral', 'groq/llama-3.3-70b', 'smart'], 'openai/gpt-4.1': ['groq/mixtral'] },
    })
    assert.deepEqual(targets(routes.route('fast')), ['groq/llama-3.3-70b', 'groq/mixtral', 'openai/gpt-4.1'])
    assert.deepEqual(targets(routes.route('smart')), ['openai/gpt-4.1', 'groq/mixtral'], 'the alias has no chain of its own: its target\'s applies')
  })

  test('no provider serves a bare name: model_not_found, naming the aliases and listed models', () => {
    const routes = table({ aliases: { fast: 'groq/mixtral' } }, [provider('groq', ['mixtral'])])
    assert.throws(() => routes.route('gpt-4.1'), refusedAs('model_not_found', /No provider serves model "gpt-4\.1"\. Models: fast, groq\/mixtral\./))
  })

  test('denyModels and allowModels match any name of the model (as asked, provider/model, bare id), before any upstream call', () => {
    const routes = table({ aliases: { fast: 'groq/mixtral' }, allowModels: ['gpt-4.1*', 'groq/*'], denyModels: ['gpt-4.1-nano'] })
    assert.deepEqual(targets(routes.route('fast')), ['groq/mixtral'])
    assert.deepEqual(targets(routes.route('openai/gpt-4.1-mini')), ['openai/gpt-4.1-mini'])
    assert.throws(() => routes.route('gpt-4.1-nano'), refusedAs('model_not_allowed', /Model "gpt-4\.1-nano" is not allowed on this router\. Allowed models: gpt-4\.1\*, groq\/\*, fast\./))
    assert.throws(() => routes.route('o3'), refusedAs('model_not_allowed', /Model "o3" is not allowed/))
  })

  test('a client\'s allow-list refuses what it does not match and drops the fallbacks it may not call', () => {
    const routes = table({ aliases: { fast: 'groq/llama-3.3-70b' }, fallbacks: { fast: ['gpt-4.1', 'groq/mixtral'] } })
    const teamA = client('team-a', ['fast', 'groq/*'])
    assert.deepEqual(targets(routes.route('fast', teamA)), ['groq/llama-3.3-70b', 'groq/mixtral'])
    assert.throws(() => routes.route('gpt-4.1', teamA), refusedAs('model_not_allowed', /Client "team-a" may not call model "gpt-4\.1"\. Its allowed models: fast, groq\/\*\./))
    assert.deepEqual(targets(routes.route('fast', client('team-b'))), ['groq/llama-3.3-70b', 'openai/gpt-4.1', 'groq/mixtral'], 'no allow-list: every model the router allows')
  })
})
