import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { bearer, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../../support/client-keys.js'
import { FakeOpenAI } from '../../support/fake-openai.js'
import { RedisServer, skipWithoutRedis } from '../../support/redis.js'
import { errorMeta, textOf } from '../../support/results.js'
import { connectClient, type RunningRouter, startRouter, startStack } from '../../support/router.js'
import { waitFor } from '../../support/wait-for.js'

interface ResponseStructured {
  status: string
  responseId: string
  text: string
}

describe('background responses', () => {
  test('chat with background: true polls until the response completes, reporting its status', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_MS: '5000' })
    try {
      const updates: Progress[] = []
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'a long essay', background: true } }, undefined, { onprogress: (update) => updates.push(update) })
      assert.equal(textOf(result), 'echo: a long essay')
      assert.equal((result.structuredContent as unknown as ResponseStructured).status, 'completed')
      assert.equal(stack.upstream.received('POST /v1/responses')[0]!.body.background, true)
      assert.equal(stack.upstream.received('POST /v1/responses')[0]!.body.stream, undefined, 'background responses are polled, not streamed')
      // backgroundPolls (2) checks find it running, the third finds it done.
      assert.equal(stack.upstream.received('GET /v1/responses/{id}').length, 3)
      assert.match(updates[0]?.message ?? '', /^response resp_\d+ is queued \(0 s\)$/)
      assert.match(updates[1]?.message ?? '', /is in_progress/)
    } finally {
      await stack.close()
    }
  })

  test('past POLL_MAX_MS the result carries the id and status; get_response fetches the answer later', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
    try {
      stack.upstream.backgroundPolls = 1
      const started = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'later', background: true } })
      assert.equal(started.isError, undefined)
      const { responseId, status } = started.structuredContent as unknown as ResponseStructured
      assert.equal(status, 'queued')
      assert.match(textOf(started), new RegExp(`still queued. Fetch its answer later with get_response \\{"response_id": "${responseId}"\\}`))

      const running = await stack.client.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      assert.equal((running.structuredContent as unknown as ResponseStructured).status, 'in_progress')
      const done = await stack.client.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      assert.equal((done.structuredContent as unknown as ResponseStructured).status, 'completed')
      assert.equal(textOf(done), 'echo: later')
    } finally {
      await stack.close()
    }
  })

  test('get_response with wait: true polls while the response runs', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
    try {
      const started = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'patience', background: true } })
      const { responseId } = started.structuredContent as unknown as ResponseStructured
      const slow = await startStackSharingUpstream(stack.upstream.baseURL)
      try {
        const done = await slow.client.callTool({ name: 'get_response', arguments: { response_id: responseId, wait: true } })
        assert.equal(textOf(done), 'echo: patience')
      } finally {
        await slow.close()
      }
    } finally {
      await stack.close()
    }
  })

  test('cancel_response stops a background response; unknown ids are not_found', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
    try {
      const started = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'never mind', background: true } })
      const { responseId } = started.structuredContent as unknown as ResponseStructured
      const cancelled = await stack.client.callTool({ name: 'cancel_response', arguments: { response_id: responseId } })
      assert.equal((cancelled.structuredContent as unknown as ResponseStructured).status, 'cancelled')
      assert.match(textOf(cancelled), new RegExp(`The response ${responseId} was cancelled`))

      const unknown = await stack.client.callTool({ name: 'get_response', arguments: { response_id: 'resp_missing' } })
      assert.equal(errorMeta(unknown).code, 'not_found')
      assert.match(textOf(unknown), /no response resp_missing \(HTTP 404: Response with id 'resp_missing' not found.\)/)
      const badId = await stack.client.callTool({ name: 'cancel_response', arguments: { response_id: '../admin' } })
      assert.match(textOf(badId), /response_id must be a response id such as resp_abc123/)
    } finally {
      await stack.close()
    }
  })

  test('a chat abandoned while it waits cancels its background response upstream', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '50', POLL_MAX_MS: '10000' })
    try {
      stack.upstream.backgroundPolls = 1000
      const controller = new AbortController()
      const call = stack.client.callTool({ name: 'chat', arguments: { prompt: 'forever', background: true } }, undefined, { signal: controller.signal, onprogress: () => {} })
      await waitFor(() => stack.upstream.received('GET /v1/responses/{id}').length > 0, 'the first status check')
      controller.abort('no longer needed')
      await assert.rejects(call)
      await waitFor(() => stack.upstream.received('POST /v1/responses/{id}/cancel').length === 1, 'the upstream cancel')
    } finally {
      await stack.close()
    }
  })

  test('a background response that fails upstream is a tool error with the upstream\'s reason', async () => {
    const stack = await startStack({ POLL_INTERVAL_MS: '20', POLL_MAX_MS: '5000' })
    try {
      const failed = stack.upstream.responseBody('gpt-4.1-mini', '', { status: 'failed', output: [], error: { code: 'server_error', message: 'The model crashed.' } })
      stack.upstream.script('GET /v1/responses/{id}', { json: failed })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', background: true } })
      assert.equal(errorMeta(result).code, 'upstream_unavailable')
      assert.match(textOf(result), /could not produce an answer \(response resp_\d+\): The model crashed/)
    } finally {
      await stack.close()
    }
  })

  test('background needs the Responses API and a stored response', async () => {
    const stack = await startStack({ UPSTREAM_API: 'chat_completions' })
    try {
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'x', background: true } })
      assert.equal(errorMeta(result).code, 'invalid_arguments')
      assert.match(textOf(result), /background needs the Responses API/)
    } finally {
      await stack.close()
    }
    const responses = await startStack()
    try {
      const unstored = await responses.client.callTool({ name: 'chat', arguments: { prompt: 'x', background: true, store: false } })
      assert.match(textOf(unstored), /background needs store/)
    } finally {
      await responses.close()
    }
  })
})

/** A second router on the same upstream, allowed to wait: the stored response lives upstream, not in a router. */
async function startStackSharingUpstream (baseURL: string) {
  const router = await startRouter({ baseURL }, { POLL_INTERVAL_MS: '20', POLL_MAX_MS: '5000' })
  const client = await connectClient(router)
  return {
    client,
    async close () {
      await client.close()
      await router.close()
    },
  }
}

describe('background responses with client keys', () => {
  /** Team A starts a background response on `first`; team B, on `second`, must not reach it; team A must. */
  async function checkOwnership (first: RunningRouter, second: RunningRouter, upstream: FakeOpenAI) {
    upstream.backgroundPolls = 5
    const teamA = await connectClient(first, bearer(TEAM_A_KEY))
    const teamB = await connectClient(second, bearer(TEAM_B_KEY))
    const teamAElsewhere = await connectClient(second, bearer(TEAM_A_KEY))
    try {
      const started = await teamA.callTool({ name: 'chat', arguments: { model: 'gpt-4.1-mini', prompt: 'team a\'s secret plan', background: true } })
      const { responseId } = started.structuredContent as unknown as ResponseStructured
      for (const tool of ['get_response', 'cancel_response']) {
        const refused = await teamB.callTool({ name: tool, arguments: { response_id: responseId } })
        assert.equal(errorMeta(refused).code, 'not_found', tool)
        assert.doesNotMatch(JSON.stringify(refused), /secret plan/)
      }
      assert.equal(upstream.received('POST /v1/responses/{id}/cancel').length, 0, 'team B\'s cancel never reached the upstream')
      const calls = upstream.received('POST /v1/responses').length
      const continued = await teamB.callTool({ name: 'chat', arguments: { prompt: 'repeat your last answer', previous_response_id: responseId } })
      assert.equal(errorMeta(continued).code, 'not_found', 'continuing it reads it back, so it is refused as well')
      assert.equal(upstream.received('POST /v1/responses').length, calls, 'team B\'s continuation never reached the upstream')
      const fetched = await teamAElsewhere.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      assert.equal(fetched.isError, undefined)
      assert.equal((fetched.structuredContent as unknown as ResponseStructured).responseId, responseId)
    } finally {
      await Promise.all([teamA.close(), teamB.close(), teamAElsewhere.close()])
    }
  }

  test('belong to the client that started them (one router)', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile(), POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' })
    try {
      await checkOwnership(router, router, upstream)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('belong to the client that started them across replicas sharing Redis', { skip: skipWithoutRedis }, async () => {
    const redis = await RedisServer.start()
    const upstream = await FakeOpenAI.start()
    const env = { CLIENT_KEYS_FILE: await writeClientsFile(), POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0', ...redis.routerEnv }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    try {
      await checkOwnership(first, second, upstream)
    } finally {
      await Promise.all([first.close(), second.close()])
      await upstream.close()
      await redis.stop()
    }
  })
})
