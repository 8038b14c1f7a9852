import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { errorBody } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta, textOf } from '../support/results.js'
import { routedResult, startRoutedStack } from '../support/routing.js'

const chatOf = (model: string, prompt = 'hello') => ({ name: 'chat', arguments: { model, prompt } })
const serverError = { status: 500, json: errorBody('The server had an error while processing your request.', 'server_error') }

describe('routing between providers', () => {
  test('provider/model, aliases and bare names reach the provider that serves them; list_models merges them all', async () => {
    const stack = await startRoutedStack({
      providers: [
        { name: 'openai' },
        { name: 'local', api: 'chat_completions', models: ['llama-3.1-8b'], headers: { 'X-Team': 'search' } },
      ],
      aliases: { fast: 'openai/gpt-4.1-mini', small: 'local/llama-3.1-8b' },
    })
    try {
      const { openai, local } = stack.upstreams as Record<'openai' | 'local', NonNullable<typeof stack.upstreams[string]>>
      const prefixed = routedResult(await stack.client.callTool(chatOf('local/llama-3.1-8b')))
      assert.deepEqual([prefixed.provider, prefixed.model], ['local', 'llama-3.1-8b'])
      assert.equal(local.received('POST /v1/chat/completions').at(-1)?.body.model, 'llama-3.1-8b', 'the prefix is not sent upstream')
      assert.equal(local.received('POST /v1/chat/completions').at(-1)?.headers.authorization, 'Bearer sk-routed-test')
      assert.equal(local.received('POST /v1/chat/completions').at(-1)?.headers['x-team'], 'search', 'the provider\'s extra headers')

      const aliased = routedResult(await stack.client.callTool(chatOf('fast')))
      assert.deepEqual([aliased.provider, aliased.model], ['openai', 'gpt-4.1-mini'])
      assert.equal(openai.received('POST /v1/responses').at(-1)?.body.model, 'gpt-4.1-mini')

      const bare = routedResult(await stack.client.callTool(chatOf('llama-3.1-8b')))
      assert.equal(bare.provider, 'local', 'a bare name goes to the provider listing it')
      assert.deepEqual(bare.attempts, [{ provider: 'local', model: 'llama-3.1-8b', outcome: 'ok' }])

      const listed = await stack.client.callTool({ name: 'list_models', arguments: {} })
      const { models, aliases } = listed.structuredContent as {
        models: Array<{ id: string, provider: string, route: string, aliases?: string[] }>
        aliases: Record<string, string>
      }
      assert.deepEqual(models.map((model) => model.route), ['openai/gpt-4.1', 'openai/gpt-4.1-mini', 'openai/text-embedding-3-small', 'local/llama-3.1-8b'])
      assert.deepEqual(models.find((model) => model.route === 'openai/gpt-4.1-mini')?.aliases, ['fast'])
      assert.deepEqual(aliases, { fast: 'openai/gpt-4.1-mini', small: 'local/llama-3.1-8b' })
      assert.match(textOf(listed), /local\/llama-3.1-8b \(alias: small\)/)
      assert.equal(local.received('GET /v1/models').length, 0, 'a provider with a model list is not asked for one')
    } finally {
      await stack.close()
    }
  })

  test('denyModels holds whatever the case, spaces or full-width letters of the name, on a "*" provider and by provider prefix', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'p1', models: '*' }, { name: 'p2', models: '*' }],
      denyModels: ['o3-pro*'],
    })
    try {
      for (const model of ['O3-PRO', ' o3-pro ', 'O3-Pro', 'p2/O3-Pro', 'p1/o3-pro ', 'ｏ３-ｐｒｏ', 'Ｏ３－ＰＲＯ']) {
        const refused = await stack.client.callTool(chatOf(model))
        assert.equal(errorMeta(refused).code, 'model_not_allowed', `${JSON.stringify(model)}: ${textOf(refused)}`)
      }
      assert.equal(stack.upstreams.p1?.received('POST /v1/responses').length, 0)
      assert.equal(stack.upstreams.p2?.received('POST /v1/responses').length, 0)
      assert.equal((await stack.client.callTool(chatOf('o3'))).isError, undefined, 'other models still go')
    } finally {
      await stack.close()
    }
  })

  test('allowModels and denyModels refuse a model before any upstream call, naming the allowed ones', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'openai' }],
      aliases: { fast: 'openai/gpt-4.1-mini' },
      allowModels: ['fast', 'gpt-4.1*', 'text-embedding-*'],
      denyModels: ['gpt-4.1-nano'],
    })
    try {
      const upstream = stack.upstreams.openai
      for (const model of ['o3', 'gpt-4.1-nano']) {
        const refused = await stack.client.callTool(chatOf(model))
        assert.equal(refused.isError, true)
        assert.equal(errorMeta(refused).code, 'model_not_allowed')
        assert.match(textOf(refused), new RegExp(`Model "${model}" is not allowed on this router\\. Allowed models: fast, gpt-4\\.1\\*, text-embedding-\\*`))
      }
      const embedRefused = await stack.client.callTool({ name: 'embed', arguments: { input: 'x', model: 'text-embedding-ada-002-nano' } })
      assert.equal(embedRefused.isError, undefined, 'text-embedding-* allows it')
      assert.equal(upstream?.received('POST /v1/responses').length, 0)
      assert.equal(routedResult(await stack.client.callTool(chatOf('fast'))).model, 'gpt-4.1-mini')
      const listed = (await stack.client.callTool({ name: 'list_models', arguments: {} })).structuredContent as { models: Array<{ id: string }> }
      assert.deepEqual(listed.models.map((model) => model.id), ['gpt-4.1', 'gpt-4.1-mini', 'text-embedding-3-small'])
    } finally {
      await stack.close()
    }
  })

  test('a failing provider falls back to the next model: the result names who answered and what was tried', async () => {
    const logs = new LogCapture()
    const stack = await startRoutedStack({
      providers: [{ name: 'primary' }, { name: 'backup', api: 'chat_completions', models: ['backup-model'] }],
      aliases: { smart: 'primary/gpt-4.1' },
      fallbacks: { smart: ['backup/backup-model'] },
    }, { LOG_LEVEL: 'info', UPSTREAM_MAX_RETRIES: '1', UPSTREAM_RETRY_BASE_MS: '1' }, logs)
    try {
      stack.upstreams.primary?.script('POST /v1/responses', serverError, serverError)
      const result = await stack.client.callTool(chatOf('smart', 'still there?'))
      assert.equal(result.isError, undefined)
      const routed = routedResult(result)
      assert.deepEqual([routed.provider, routed.model, routed.text], ['backup', 'backup-model', 'echo: still there?'])
      assert.deepEqual(routed.attempts, [
        { provider: 'primary', model: 'gpt-4.1', outcome: 'upstream_unavailable' },
        { provider: 'backup', model: 'backup-model', outcome: 'ok' },
      ])
      assert.equal(stack.upstreams.primary?.received('POST /v1/responses').length, 2, 'the retries first, then the fallback')
      const [warning] = logs.find({ msg: 'falling back from primary/gpt-4.1 to backup/backup-model: upstream_unavailable' })
      assert.equal(warning?.level, 40)
      const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'chat' })
      assert.equal(line?.provider, 'backup')
      assert.equal(line?.attempts, 'primary/gpt-4.1:upstream_unavailable backup/backup-model:ok')
      assert.equal(line?.modelRequested, 'smart')
      const metrics = parseExposition(await (await stack.fetch('/metrics')).text())
      assert.equal(sampleValue(metrics, 'mcp_router_fallbacks_total', { from_provider: 'primary', to_provider: 'backup', reason: 'upstream_unavailable' }), 1)

      stack.upstreams.primary?.script('POST /v1/responses', { status: 400, json: errorBody('Invalid value for temperature.', 'invalid_request_error') })
      const rejected = await stack.client.callTool(chatOf('smart'))
      assert.equal(errorMeta(rejected).code, 'upstream_rejected', 'a request the upstream refuses is not passed on')
      assert.equal(stack.upstreams.backup?.received('POST /v1/chat/completions').length, 1)
    } finally {
      await stack.close()
    }
  })

  test('when every model of the route fails, the error says what was tried', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'a' }, { name: 'b' }],
      fallbacks: { 'a/gpt-4.1': ['b/gpt-4.1'] },
    })
    try {
      stack.upstreams.a?.script('POST /v1/responses', serverError)
      stack.upstreams.b?.script('POST /v1/responses', { status: 429, json: errorBody('Rate limit reached for gpt-4.1.', 'requests'), headers: { 'retry-after': '7' } })
      const result = await stack.client.callTool(chatOf('a/gpt-4.1'))
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'rate_limited')
      assert.equal(errorMeta(result).retryAfterSeconds, 7)
      assert.match(textOf(result), /Tried in turn: a\/gpt-4.1 \(upstream_unavailable\), b\/gpt-4.1 \(rate_limited\)\./)
    } finally {
      await stack.close()
    }
  })

  test('a stream the client has started to see is not passed on to a fallback', async () => {
    const stack = await startRoutedStack({ providers: [{ name: 'a' }, { name: 'b' }], fallbacks: { 'gpt-4.1': ['b/gpt-4.1'] } })
    try {
      const upstream = stack.upstreams.a
      upstream?.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1', 'a long answer that breaks off'), dropAfterEvents: 6 })
      const progress: string[] = []
      const result = await stack.client.callTool({ name: 'chat', arguments: { model: 'a/gpt-4.1', prompt: 'go' } }, undefined, { onprogress: ({ message }) => { if (message) progress.push(message) } })
      assert.ok(progress.length > 0, 'part of the answer reached the client')
      assert.equal(result.isError, true)
      assert.equal(errorMeta(result).code, 'upstream_unavailable')
      assert.equal(stack.upstreams.b?.received('POST /v1/responses').length, 0)
    } finally {
      await stack.close()
    }
  })

  test('a keyless provider (a local vLLM or Ollama) gets no Authorization header', async () => {
    const stack = await startRoutedStack({ providers: [{ name: 'ollama', apiKeyEnv: undefined, api: 'chat_completions' }] })
    try {
      const result = routedResult(await stack.client.callTool(chatOf('llama3')))
      assert.equal(result.provider, 'ollama')
      assert.equal(stack.upstreams.ollama?.received('POST /v1/chat/completions').at(-1)?.headers.authorization, undefined)
    } finally {
      await stack.close()
    }
  })

  test('embed and generate_image route and fall back like chat; stored responses are fetched from the provider that holds them', async () => {
    const stack = await startRoutedStack({
      providers: [{ name: 'a' }, { name: 'b' }],
      aliases: { vectors: 'a/text-embedding-3-small' },
      fallbacks: { vectors: ['b/text-embedding-3-small'] },
    }, { POLL_MAX_MS: '0' })
    try {
      stack.upstreams.a?.script('POST /v1/embeddings', serverError)
      const embedded = routedResult(await stack.client.callTool({ name: 'embed', arguments: { input: 'x', model: 'vectors' } }))
      assert.deepEqual([embedded.provider, embedded.attempts.map((attempt) => attempt.outcome)], ['b', ['upstream_unavailable', 'ok']])
      const image = routedResult(await stack.client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat', model: 'b/gpt-image-1' } }))
      assert.equal(image.provider, 'b')

      const started = await stack.client.callTool({ name: 'chat', arguments: { model: 'b/gpt-4.1', prompt: 'slow work', background: true } })
      const { responseId, provider } = started.structuredContent as { responseId: string, provider: string }
      assert.equal(provider, 'b')
      const fetched = await stack.client.callTool({ name: 'get_response', arguments: { response_id: responseId, provider, wait: true } })
      assert.equal(routedResult(fetched).provider, 'b')
      assert.equal(stack.upstreams.a?.received('GET /v1/responses/{id}').length, 0)
      const unknown = await stack.client.callTool({ name: 'cancel_response', arguments: { response_id: responseId, provider: 'nowhere' } })
      assert.match(textOf(unknown), /No provider is called "nowhere"; the providers are: a, b\./)
    } finally {
      await stack.close()
    }
  })

  test('list_models names a provider whose /models fails and still lists the others', async () => {
    // Nothing listens on port 9 of the loopback: connections are refused from the start.
    const stack = await startRoutedStack({ providers: [{ name: 'up' }, { name: 'down', baseURL: 'http://127.0.0.1:9/v1' }] })
    try {
      const result = await stack.client.callTool({ name: 'list_models', arguments: {} })
      assert.equal(result.isError, undefined)
      const { models, unavailable } = result.structuredContent as {
        models: Array<{ provider: string }>
        unavailable: Array<{ provider: string, error: string }>
      }
      assert.ok(models.length > 0 && models.every((model) => model.provider === 'up'))
      assert.equal(unavailable[0]?.provider, 'down')
      assert.match(textOf(result), /Provider down is missing: /)
    } finally {
      await stack.close()
    }
  })
})
