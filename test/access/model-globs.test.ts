import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bearer, TEAM_A_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { HEALTH_BOUND_MS, slowestHealthDuring } from '../support/health-latency.js'
import { errorMeta } from '../support/results.js'
import { connectClient } from '../support/router.js'
import { startRouterProcess } from '../support/router-process.js'

test('a long model name against a client\'s model globs is checked in linear time: /health answers as usual', async () => {
  const upstream = await FakeOpenAI.start()
  // Two stars: a backtracking RegExp (^.*gpt.*mini$) took tens of seconds over 90,000 characters.
  const router = await startRouterProcess({ OPENAI_API_KEY: 'sk-glob-test', OPENAI_BASE_URL: upstream.baseURL, READY_CHECK_UPSTREAM: 'false', CLIENT_KEYS_FILE: await writeClientsFile({ models: ['*gpt*mini'] }) })
  const baseUrl = `http://127.0.0.1:${router.port}`
  try {
    const client = await connectClient({ mcpUrl: new URL(`${baseUrl}/mcp`) }, bearer(TEAM_A_KEY))
    const { result, slowestMs } = await slowestHealthDuring(baseUrl, () => client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt'.repeat(30_000) } }, undefined, { timeout: 30_000 }))
    assert.equal(errorMeta(result).code, 'model_not_allowed')
    assert.ok(slowestMs < HEALTH_BOUND_MS, `/health took ${slowestMs} ms`)
    await client.close()
  } finally {
    await router.kill()
    await upstream.close()
  }
})
