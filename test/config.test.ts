import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { buildApp } from '../src/app.js'
import { KUBERNETES_PLACEHOLDER_API_KEY, PLACEHOLDER_API_KEY } from '../src/routing/routing-config.js'

const valid = { OPENAI_API_KEY: 'sk-config-test', LOG_LEVEL: 'silent' }

describe('configuration', () => {
  test('defaults apply when only the key is set', async () => {
    const app = await buildApp({ env: valid })
    try {
      assert.equal(app.config.PORT, 8000)
      assert.equal(app.config.HOST, '127.0.0.1', 'reachable from this machine only, until told otherwise')
      assert.equal(app.config.MODEL, 'gpt-4.1-mini')
      assert.equal(app.config.OPENAI_BASE_URL, 'https://api.openai.com/v1')
      assert.equal(app.config.UPSTREAM_API, 'responses')
      assert.equal(app.config.UPSTREAM_TIMEOUT_MS, 120_000)
      assert.equal(app.config.MCP_SESSIONS, 'stateless')
      assert.equal(app.config.MAX_BODY_BYTES, 4 * 1024 * 1024)
      assert.deepEqual(app.config.ALLOWED_ORIGINS, [])
      assert.equal(app.modelRouter.table.defaultProvider.client.baseURL, 'https://api.openai.com/v1')
    } finally {
      await app.close()
    }
  })

  test('lists are split and trimmed, numbers and booleans coerced', async () => {
    const app = await buildApp({ env: { ...valid, ALLOWED_ORIGINS: 'https://a.example, https://b.example ,', ALLOWED_HOSTS: 'Router.Internal:8001', PORT: '9001', READY_CHECK_UPSTREAM: 'false' } })
    try {
      assert.deepEqual(app.config.ALLOWED_ORIGINS, ['https://a.example', 'https://b.example'])
      assert.deepEqual(app.config.ALLOWED_HOSTS, ['router.internal:8001'])
      assert.equal(app.config.PORT, 9001)
      assert.equal(app.config.READY_CHECK_UPSTREAM, false)
    } finally {
      await app.close()
    }
  })

  test('the key can come from a file (Docker and Kubernetes secrets)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-key-'))
    const file = join(dir, 'openai-key')
    await writeFile(file, 'sk-from-file\n')
    const app = await buildApp({ env: { LOG_LEVEL: 'silent', OPENAI_API_KEY_FILE: file } })
    try {
      assert.equal(app.config.OPENAI_API_KEY, 'sk-from-file')
      assert.equal(app.modelRouter.table.defaultProvider.client.apiKey, 'sk-from-file')
    } finally {
      await app.close()
    }
  })

  test('a key file with OPENAI_API_KEY beside it (a .env copied from .env.example next to a compose secret) stops start-up naming both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-key-'))
    const file = join(dir, 'openai-key')
    await writeFile(file, 'sk-from-file\n')
    await assert.rejects(buildApp({ env: { LOG_LEVEL: 'silent', OPENAI_API_KEY: PLACEHOLDER_API_KEY, OPENAI_API_KEY_FILE: file } }),
      { message: 'Invalid configuration: OPENAI_API_KEY and OPENAI_API_KEY_FILE are both set; keep one (with a key file, remove OPENAI_API_KEY from .env)' })
  })

  test('a key file holding the Kubernetes example\'s placeholder stops start-up, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-key-'))
    const file = join(dir, 'api-key')
    await writeFile(file, `${KUBERNETES_PLACEHOLDER_API_KEY}\n`)
    await assert.rejects(buildApp({ env: { LOG_LEVEL: 'silent', OPENAI_API_KEY_FILE: file } }),
      { message: `Invalid configuration: OPENAI_API_KEY_FILE (${file}) is the Kubernetes example's placeholder (sk-replace-me); set your API key` })
    await assert.rejects(buildApp({ env: { LOG_LEVEL: 'silent', OPENAI_API_KEY: KUBERNETES_PLACEHOLDER_API_KEY } }),
      { message: 'Invalid configuration: OPENAI_API_KEY is the Kubernetes example\'s placeholder (sk-replace-me); set your API key' })
  })

  const failures: Array<[string, Record<string, string>, RegExp]> = [
    ['no key at all', { LOG_LEVEL: 'silent' }, /^Invalid configuration: OPENAI_API_KEY is required \(or OPENAI_API_KEY_FILE/],
    ['an unreadable key file', { LOG_LEVEL: 'silent', OPENAI_API_KEY_FILE: '/nonexistent/key' }, /^Invalid configuration: OPENAI_API_KEY_FILE cannot be read \(ENOENT/],
    ['a port that is not a number', { ...valid, PORT: 'abc' }, /^Invalid configuration: PORT must be integer$/],
    ['a port out of range', { ...valid, PORT: '70000' }, /^Invalid configuration: PORT must be <= 65535$/],
    ['a negative timeout', { ...valid, UPSTREAM_TIMEOUT_MS: '-5' }, /^Invalid configuration: UPSTREAM_TIMEOUT_MS must be >= 1$/],
    ['a base URL that is not one', { ...valid, OPENAI_BASE_URL: 'not a url' }, /^Invalid configuration: OPENAI_BASE_URL must be an http:\/\/ or https:\/\/ URL$/],
    ['an unknown session mode', { ...valid, MCP_SESSIONS: 'sticky' }, /^Invalid configuration: MCP_SESSIONS must be one of: stateless, stateful$/],
    ['an unknown upstream API', { ...valid, UPSTREAM_API: 'completions' }, /^Invalid configuration: UPSTREAM_API must be one of: responses, chat_completions$/],
    ['a headers timeout longer than the request timeout', { ...valid, REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }, /^Invalid configuration: HEADERS_TIMEOUT_MS \(6000\) must not exceed REQUEST_TIMEOUT_MS \(5000\)/],
    ['prices that are not JSON', { ...valid, MODEL_PRICES: '{gpt: 1}' }, /^Invalid configuration: MODEL_PRICES is not JSON; expected \{"model": \{"input": 0\.4, "output": 1\.6\}\}/],
    ['a negative price', { ...valid, MODEL_PRICES: '{"gpt-x": {"input": -1, "output": 2}}' }, /^Invalid configuration: MODEL_PRICES gpt-x\.input must be >= 0; expected/],
    ['a misspelt price field', { ...valid, MODEL_PRICES: '{"gpt-x": {"input": 1, "ouput": 2}}' }, /^Invalid configuration: MODEL_PRICES gpt-x\.output is required; gpt-x\.ouput is not a known field; expected/],
    ['an image price by something other than a size', { ...valid, IMAGE_PRICES: '{"img-x": {"standard": {"large": 0.04}}}' }, /^Invalid configuration: IMAGE_PRICES img-x\.standard\.large is not a known field; expected \{"model": \{"standard": \{"1024x1024": 0\.04\}\}\}/],
    ['a short metrics token', { ...valid, METRICS_TOKEN: 'short' }, /^Invalid configuration: METRICS_TOKEN must NOT have fewer than 16 characters$/],
    ['an OTLP endpoint that is not a URL', { ...valid, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, /^Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL$/],
    ['an unknown LOG_BODIES mode', { ...valid, LOG_BODIES: 'some' }, /^Invalid configuration: LOG_BODIES must be one of: none, truncated, full$/],
    ['downstream servers that are not JSON', { ...valid, DOWNSTREAM_MCP: '[{name: think}]' }, /^Invalid configuration: DOWNSTREAM_MCP is not JSON; expected \[\{"name": "search", "url": "http:\/\/search:8000\/mcp"\}\]$/],
    ['a downstream without a URL', { ...valid, DOWNSTREAM_MCP: '[{"name": "a", "url": "http://a/mcp"}, {"name": "b"}]' }, /^Invalid configuration: DOWNSTREAM_MCP\[1\]\.url is required; expected/],
    ['a downstream name with __', { ...valid, DOWNSTREAM_MCP: '[{"name": "a__b", "url": "http://a/mcp"}]' }, /^Invalid configuration: DOWNSTREAM_MCP\[0\]\.name must be letters, digits, - or single _ \(at most 31\); expected/],
    ['a downstream URL that is not one', { ...valid, DOWNSTREAM_MCP: '[{"name": "a", "url": "ftp://a"}]' }, /^Invalid configuration: DOWNSTREAM_MCP\[0\]\.url must be an http:\/\/ or https:\/\/ URL; expected/],
    ['two downstreams with one name', { ...valid, DOWNSTREAM_MCP: '[{"name": "a", "url": "http://a/mcp"}, {"name": "a", "url": "http://b/mcp"}]' }, /^Invalid configuration: DOWNSTREAM_MCP\[1\]\.name "a" is used twice$/],
    ['a downstream token variable that is not set', { ...valid, DOWNSTREAM_MCP: '[{"name": "a", "url": "http://a/mcp", "tokenEnv": "A_TOKEN"}]' }, /^Invalid configuration: DOWNSTREAM_MCP\[0\]\.tokenEnv names A_TOKEN, which is not set$/],
    ['an event store in stateless mode', { ...valid, MCP_EVENT_STORE: 'memory' }, /^Invalid configuration: MCP_EVENT_STORE=memory needs MCP_SESSIONS=stateful/],
    ['a Redis event store without Redis', { ...valid, MCP_SESSIONS: 'stateful', MCP_EVENT_STORE: 'redis' }, /^Invalid configuration: MCP_EVENT_STORE=redis needs REDIS_URL$/],
    ['a proxy address that is not one', { ...valid, TRUST_PROXY: '10.0.0.300' }, /^Invalid configuration: TRUST_PROXY must be false, true, or comma-separated proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal \(got "10\.0\.0\.300"\)$/],
    ['a hop count for TRUST_PROXY', { ...valid, TRUST_PROXY: '1' }, /^Invalid configuration: TRUST_PROXY must be false, true, or comma-separated/],
    ['two bad settings', { ...valid, PORT: 'x', LOG_LEVEL: 'loud' }, /^Invalid configuration: PORT must be integer; LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace, silent$/],
  ]
  for (const [name, env, message] of failures) {
    test(`start-up fails on ${name} with one line naming the setting`, async () => {
      await assert.rejects(buildApp({ env }), (err: Error) => {
        assert.match(err.message, message)
        assert.doesNotMatch(err.message, /\n/)
        return true
      })
    })
  }
})
