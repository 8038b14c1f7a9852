import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { buildApp } from '../../src/app.js'
import { checkConfig, compileConfig } from '../../src/config-parsing.js'
import { PLACEHOLDER_API_KEY, RoutingFileSchema } from '../../src/routing/routing-config.js'

describe('ROUTER_CONFIG at start-up', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'router-settings-')) })
  after(async () => rm(dir, { recursive: true, force: true }))

  async function start (file: string, env: Record<string, string> = {}) {
    const path = join(dir, `routing-${Math.random().toString(36).slice(2)}.yaml`)
    await writeFile(path, file)
    return { path, app: buildApp({ env: { LOG_LEVEL: 'silent', ROUTER_CONFIG: path, GROQ_KEY: 'gsk-1', ...env } }) }
  }

  test('a valid file needs no OPENAI_API_KEY; keys come from the environment or a file, defaults from the environment', async () => {
    const keyFile = join(dir, 'local-key')
    await writeFile(keyFile, 'local-secret\n')
    const { app: building } = await start([
      'providers:',
      '  - { name: groq, baseURL: "https://api.groq.com/openai/v1", apiKeyEnv: GROQ_KEY, api: chat_completions, timeoutMs: 20000, circuitBreaker: { enabled: false } }',
      `  - { name: local, baseURL: "http://127.0.0.1:9/v1", apiKeyFile: ${keyFile}, maxConcurrency: 2 }`,
      'circuitBreaker: { cooldownMs: 5000 }',
    ].join('\n'), { UPSTREAM_TIMEOUT_MS: '30000', READY_CHECK_UPSTREAM: 'false' })
    const app = await building
    try {
      const [groq, local] = app.config.routing.providers
      assert.deepEqual([groq?.apiKey, groq?.api, groq?.timeoutMs, groq?.models], ['gsk-1', 'chat_completions', 20000, '*'])
      assert.deepEqual([local?.apiKey, local?.api, local?.timeoutMs, local?.concurrency], ['local-secret', 'responses', 30000, { max: 2, maxQueued: 8, queueTimeoutMs: 10_000 }])
      assert.deepEqual(local?.circuitBreaker, { failureThreshold: 5, failureRatio: 0.5, minimumCalls: 20, windowMs: 60_000, cooldownMs: 5000 }, 'the defaults, under the file\'s settings')
      assert.equal(groq?.circuitBreaker, undefined, 'enabled: false')
    } finally {
      await app.close()
    }
  })

  test('the example in examples/routing.yaml follows the schema', async () => {
    const example = parse(await readFile('examples/routing.yaml', 'utf8')) as unknown
    assert.doesNotThrow(() => checkConfig('examples/routing.yaml', example, compileConfig(RoutingFileSchema)))
  })

  const failures: Array<[string, string, RegExp]> = [
    ['a bad URL', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1" }\n  - { name: b, baseURL: "ftp://x" }\n', /: providers\[1\]\.baseURL must be an http:\/\/ or https:\/\/ URL$/],
    ['a misspelt field', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", maxConcurency: 3 }\n', /: providers\[0\]\.maxConcurency is not a known field$/],
    ['no providers', 'aliases: { fast: gpt-4.1 }\n', /: providers is required$/],
    ['text that is not YAML', 'providers: [unclosed\n', /: is neither YAML nor JSON \(/],
    ['a key variable that is not set', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", apiKeyEnv: NOT_SET_KEY }\n', /: providers\[0\]\.apiKeyEnv names NOT_SET_KEY, which is not set$/],
    ['an inline key without allowInlineKeys', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", apiKey: sk-inline }\n', /: providers\[0\]\.apiKey writes the key into the file; use apiKeyEnv or apiKeyFile, or set allowInlineKeys: true$/],
    ['two keys for one provider', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", apiKeyEnv: GROQ_KEY, apiKeyFile: /k }\n', /: providers\[0\] gives more than one of apiKeyEnv, apiKeyFile and apiKey$/],
    ['two providers with one name', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1" }\n  - { name: a, baseURL: "https://ok.example/v2" }\n', /: providers\[1\]\.name "a" is used twice$/],
    ['an alias to a provider that does not exist', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", models: [m1] }\naliases: { fast: nope/m1 }\n', /: aliases\.fast "nope\/m1" names no provider \(providers: a\)$/],
    ['a fallback to a provider that does not exist', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1", models: [m1] }\nfallbacks: { m1: [a/m1, zz/m2] }\n', /: fallbacks\.m1\[1\] "zz\/m2" names no provider \(providers: a\)$/],
    ['a bad circuit breaker setting', 'providers:\n  - { name: a, baseURL: "https://ok.example/v1" }\ncircuitBreaker: { failureRatio: 2 }\n', /: circuitBreaker\.failureRatio must be <= 1$/],
  ]
  for (const [name, file, message] of failures) {
    test(`start-up fails on ${name} with one line naming the path in the file`, async () => {
      const { path, app } = await start(file)
      await assert.rejects(app, (err: Error) => {
        assert.ok(err.message.startsWith(`Invalid configuration: ROUTER_CONFIG (${path}):`), err.message)
        assert.match(err.message, message)
        assert.doesNotMatch(err.message, /\n/)
        return true
      })
    })
  }

  test('start-up fails on a provider whose key is still the .env.example placeholder', async () => {
    const { path, app } = await start('providers:\n  - { name: a, baseURL: "https://ok.example/v1", apiKeyEnv: OPENAI_API_KEY }\n', { OPENAI_API_KEY: PLACEHOLDER_API_KEY })
    await assert.rejects(app, { message: `Invalid configuration: ROUTER_CONFIG (${path}): providers[0] key (OPENAI_API_KEY) is the .env.example placeholder (sk-your-key); set your API key` })
  })

  test('start-up fails on a file that cannot be read', async () => {
    await assert.rejects(buildApp({ env: { LOG_LEVEL: 'silent', ROUTER_CONFIG: '/nonexistent/routing.yaml' } }), /^ConfigError: Invalid configuration: ROUTER_CONFIG cannot be read \(ENOENT: \/nonexistent\/routing\.yaml\)$/)
  })
})
