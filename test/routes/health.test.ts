import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { connectClient, postMcp, startRouter } from '../support/router.js'
import { errorMeta, textOf } from '../support/results.js'
import { waitFor } from '../support/wait-for.js'

describe('health and readiness', () => {
  test('/health is 200 {status:"ok"} and never touches the upstream', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream)
    try {
      const response = await fetch(`${router.url}/health`)
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { status: 'ok' })
      assert.equal(upstream.requests.length, 0)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('/ready is 200 when the upstream answers, and probes share one cached upstream check', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream)
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, () => fetch(`${router.url}/ready`)))
      for (const response of responses) assert.equal(response.status, 200)
      const body = await responses[0]!.json() as { status: string, checks: { upstream: { status: string } } }
      assert.equal(body.status, 'ready')
      assert.equal(body.checks.upstream.status, 'ok')
      assert.equal((await fetch(`${router.url}/ready`)).status, 200)
      assert.equal(upstream.received('GET /v1/models').length, 1, 'six probes, one upstream call')
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('/ready is 503 with the reason when the upstream refuses the key', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.script('GET /v1/models', { status: 401, json: errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key') })
    const router = await startRouter(upstream)
    try {
      const response = await fetch(`${router.url}/ready`)
      assert.equal(response.status, 503)
      const body = await response.json() as { status: string, reason: string }
      assert.equal(body.status, 'not_ready')
      assert.match(body.reason, /upstream check failed: .*HTTP 401: Incorrect API key provided/)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('/ready is 503 when the upstream is down', async () => {
    const upstream = await FakeOpenAI.start()
    const address = upstream.baseURL
    await upstream.close()
    const router = await startRouter({ baseURL: address })
    try {
      const response = await fetch(`${router.url}/ready`)
      assert.equal(response.status, 503)
      assert.match((await response.json() as { reason: string }).reason, /Cannot reach the upstream/)
    } finally {
      await router.close()
    }
  })

  test('credentials in OPENAI_BASE_URL are masked in /ready, tool errors, list_models and logs', async () => {
    const upstream = await FakeOpenAI.start()
    const { host } = new URL(upstream.baseURL)
    await upstream.close()
    const logs = new LogCapture()
    const router = await startRouter({ baseURL: `http://gateway-user:gateway-pass-0123@${host}/v1?api-key=query-key-0123&deployment=gpt&sig=signature-0123` }, { LOG_LEVEL: 'info' }, { logs })
    const client = await connectClient(router)
    try {
      const ready = await (await fetch(`${router.url}/ready`)).text()
      const chat = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      const models = await client.callTool({ name: 'list_models', arguments: {} })
      assert.match(ready, new RegExp(`"baseURL":"http://\\*\\*\\*:\\*\\*\\*@${host}/v1\\?api-key=\\*\\*\\*&deployment=gpt&sig=\\*\\*\\*"`))
      assert.match(textOf(chat), /Cannot reach the upstream at http:\/\/\*\*\*:\*\*\*@/)
      for (const [where, shown] of [['/ready', ready], ['the chat error', JSON.stringify(chat)], ['list_models', JSON.stringify(models)], ['the logs', logs.raw.join('\n')]] as const) {
        for (const secret of ['gateway-user', 'gateway-pass-0123', 'query-key-0123', 'signature-0123']) assert.ok(!shown.includes(secret), `${where} shows ${secret}`)
      }
    } finally {
      await client.close()
      await router.close()
    }
  })

  test('READY_CHECK_UPSTREAM=false makes /ready independent of the upstream', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { READY_CHECK_UPSTREAM: 'false' })
    try {
      const response = await fetch(`${router.url}/ready`)
      assert.equal(response.status, 200)
      assert.equal((await response.json() as { checks: { upstream: { status: string } } }).checks.upstream.status, 'disabled')
      assert.equal(upstream.requests.length, 0)
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

describe('graceful shutdown', () => {
  test('a call in flight finishes, /ready turns 503 and new calls are refused while it drains', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.script('POST /v1/responses', { delayMs: 400, json: upstream.responseBody('gpt-4.1-mini', 'finished in time') })
    const router = await startRouter(upstream, { SHUTDOWN_GRACE_MS: '5000' })
    const client = await connectClient(router)
    try {
      const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } })
      await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream request')

      const closing = router.close()
      const ready = await fetch(`${router.url}/ready`)
      assert.equal(ready.status, 503)
      assert.equal((await ready.json() as { status: string }).status, 'shutting_down')
      const refused = await postMcp(router, { jsonrpc: '2.0', id: 1, method: 'ping' })
      assert.equal(refused.status, 503)

      const result = await call
      assert.deepEqual(result.content, [{ type: 'text', text: 'finished in time' }])
      await closing
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })

  test('a call still running when the grace period ends is stopped with a retryable error', async () => {
    const upstream = await FakeOpenAI.start()
    upstream.script('POST /v1/responses', { delayMs: 5000, json: upstream.responseBody('gpt-4.1-mini', 'too late') })
    const router = await startRouter(upstream, { SHUTDOWN_GRACE_MS: '100' })
    const client = await connectClient(router)
    try {
      const call = client.callTool({ name: 'chat', arguments: { prompt: 'slow' } })
      await waitFor(() => upstream.received('POST /v1/responses').length === 1, 'the upstream request')
      const started = Date.now()
      const [, result] = await Promise.all([router.close(), call])
      assert.ok(Date.now() - started < 3000, 'closing did not wait for the slow upstream')
      assert.equal(result.isError, true)
      assert.match(textOf(result), /shutting down; send the call again/)
      assert.equal(errorMeta(result).retryable, true)
      await waitFor(() => upstream.received('POST /v1/responses')[0]!.closedEarly, 'the upstream request to be aborted')
    } finally {
      await client.close()
      await router.close()
      await upstream.close()
    }
  })
})
