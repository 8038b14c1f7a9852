import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import type { Client } from '../../src/access/client-keys.js'
import { REDIS_BACKOFF_MS, SharedRedis } from '../../src/shared-state/shared-redis.js'
import { WindowCounters } from '../../src/shared-state/window-counters.js'
import { budgetResetCases } from '../support/budget-cases.js'
import { bearer, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { connectClient, initializeMessage, postMcp, type RunningRouter, startRouter } from '../support/router.js'
import { REDIS_TEST_COMMAND_TIMEOUT_MS, RedisServer, skipWithoutRedis } from '../support/redis.js'
import { errorMeta, textOf } from '../support/results.js'
import { waitFor } from '../support/wait-for.js'

const teamA = { authorization: bearer(TEAM_A_KEY).headers.authorization }

/** The status of one raw initialize request from team-a. */
async function statusOf (router: RunningRouter): Promise<number> {
  const response = await postMcp(router, initializeMessage, teamA)
  await response.body?.cancel()
  return response.status
}

describe('shared state in Redis', { skip: skipWithoutRedis }, () => {
  let redis: RedisServer
  let upstream: FakeOpenAI

  before(async () => {
    redis = await RedisServer.start()
    upstream = await FakeOpenAI.start()
  })
  after(async () => {
    await upstream.close()
    await redis.stop()
  })

  describe('token budgets', () => {
    const shared: SharedRedis[] = []
    after(async () => { await Promise.all(shared.map((client) => client.close())) })
    budgetResetCases(() => {
      const client = new SharedRedis(redis.url, 'budget-test:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
      shared.push(client)
      return new WindowCounters(client)
    }, 'redis-budget-team')
  })

  test('two routers sharing one Redis enforce one combined request limit', async () => {
    const env = { CLIENT_KEYS_FILE: await writeClientsFile({ requestsPerMinute: 5 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'combined:' }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    try {
      const statuses = []
      for (let request = 0; request < 6; request++) statuses.push(await statusOf(request % 2 === 0 ? first : second))
      // Five requests in all, whichever replica took them; the sixth is refused.
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429])
      assert.equal(await statusOf(first), 429)
      assert.equal(await statusOf(second), 429)
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  test('two routers sharing one Redis reserve from one token budget: a burst on both spends at most the limit and the call that crosses it', async () => {
    const env = { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 100 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'reserve:' }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    const clients = await Promise.all([first, second].map(async (router) => connectClient(router, bearer(TEAM_A_KEY))))
    try {
      upstream.reset()
      // Every answer takes two seconds, so the whole burst is admitted (or not) before the first
      // call ends; each spends 18 tokens.
      upstream.script('POST /v1/responses', ...Array.from({ length: 40 }, () => ({ delayMs: 2000, json: upstream.responseBody('gpt-4.1-mini', 'slow') })))
      const results = await Promise.all(Array.from({ length: 40 }, async (_, index) => clients[index % 2]!.callTool({ name: 'chat', arguments: { prompt: 'hi', max_tokens: 20 } })))
      const admitted = results.filter((result) => result.isError === undefined)
      // 21 tokens reserved each, in one Redis total: the fifth reservation crosses 100, whichever replica
      // made it (a sixth only if the first five settled to 90 before the burst was through).
      assert.ok(admitted.length === 5 || admitted.length === 6, `${admitted.length} calls admitted`)
      assert.equal(upstream.received('POST /v1/responses').length, admitted.length)
      assert.ok(results.filter((result) => result.isError).every((result) => errorMeta(result).code === 'token_limit_reached'))
    } finally {
      await Promise.all(clients.map((client) => client.close()))
      await Promise.all([first.close(), second.close()])
    }
  })

  test('two routers sharing one Redis reserve from one USD budget, in millionths of a dollar', async () => {
    const env = { CLIENT_KEYS_FILE: await writeClientsFile({ models: ['*'], usdPerDay: 0.1 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'reserve-usd:' }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    const clients = await Promise.all([first, second].map(async (router) => connectClient(router, bearer(TEAM_A_KEY))))
    try {
      upstream.reset()
      upstream.script('POST /v1/images/generations', ...Array.from({ length: 10 }, () => ({ delayMs: 2000, json: { created: 1_700_000_000, data: [{ url: 'https://images.example/0.png' }] } })))
      const results = await Promise.all(Array.from({ length: 10 }, async (_, index) => clients[index % 2]!.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: 'dall-e-3' } })))
      // $0.04 reserved each, in one Redis total: 0, 0.04 and 0.08 are under $0.10, so the third is the last admitted.
      assert.equal(results.filter((result) => result.isError === undefined).length, 3)
      assert.equal(upstream.received('POST /v1/images/generations').length, 3)
      assert.ok(results.filter((result) => result.isError).every((result) => errorMeta(result).code === 'usd_limit_reached'))
      const usage = await second.app.budgets.usage(second.app.clientKeys?.named('team-a') as Client)
      assert.deepEqual(usage.windows.map(({ budget, spent }) => ({ budget, spent })), [{ budget: 'usdPerDay', spent: 0.12 }])
    } finally {
      await Promise.all(clients.map((client) => client.close()))
      await Promise.all([first.close(), second.close()])
    }
  })

  test('a background response fetched finished from either router, three times at once, is charged once, to the client that started it', async () => {
    const env = { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerDay: 1000 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'background:', POLL_INTERVAL_MS: '20', POLL_MAX_MS: '0' }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    const clients = await Promise.all([first, second].map(async (router) => connectClient(router, bearer(TEAM_A_KEY))))
    const spent = async () => (await second.app.budgets.usage(second.app.clientKeys?.named('team-a') as Client)).windows[0]?.spent
    try {
      upstream.reset()
      upstream.backgroundPolls = 0
      const started = await clients[0]!.callTool({ name: 'chat', arguments: { prompt: 'later', background: true, max_tokens: 10 } })
      const { responseId } = started.structuredContent as { responseId: string }
      assert.equal(await spent(), 12, 'the estimate stays reserved while the response runs')
      const fetch = async (client: typeof clients[number]) => (await client.callTool({ name: 'get_response', arguments: { response_id: responseId } })).structuredContent as { status: string }
      // The other replica, three times at once: one of them settles the 12 reserved to the 18 spent.
      assert.deepEqual((await Promise.all([1, 2, 3].map(async () => fetch(clients[1]!)))).map(({ status }) => status), ['completed', 'completed', 'completed'])
      assert.equal(await spent(), 18)
      // The replica that started it, whose own memory had the reservation too, charges nothing more.
      await Promise.all([1, 2, 3].map(async () => fetch(clients[0]!)))
      assert.equal(await spent(), 18)
    } finally {
      await Promise.all(clients.map((client) => client.close()))
      await Promise.all([first.close(), second.close()])
    }
  })

  test('two routers sharing one Redis share cached answers; with Redis stopped each answers on its own', async () => {
    const env = { ...redis.routerEnv, REDIS_KEY_PREFIX: 'cache:' }
    const [first, second] = await Promise.all([startRouter(upstream, env), startRouter(upstream, env)])
    const clients = await Promise.all([connectClient(first), connectClient(second)])
    try {
      upstream.reset()
      const call = { name: 'chat', arguments: { prompt: 'Shared answer', temperature: 0 } }
      const answers = []
      for (const client of [...clients, ...clients]) answers.push(await client.callTool(call))
      assert.deepEqual(answers.map((answer) => (answer.structuredContent as { cache: string }).cache), ['miss', 'hit', 'hit', 'hit'])
      assert.equal(upstream.received('POST /v1/responses').length, 1)

      await redis.stop()
      const outage = { name: 'chat', arguments: { prompt: 'During the outage', temperature: 0 } }
      const during = []
      for (const client of [...clients, ...clients]) during.push(await client.callTool(outage))
      assert.ok(during.every((answer) => answer.isError === undefined), 'every call is answered')
      // Each router caches in its own memory meanwhile: one upstream call each.
      assert.deepEqual(during.map((answer) => (answer.structuredContent as { cache: string }).cache), ['miss', 'miss', 'hit', 'hit'])
      assert.equal(upstream.received('POST /v1/responses').length, 3)
      await redis.start()
      await waitFor(() => first.app.redis?.reachable === true && second.app.redis?.reachable === true, 'both routers to reconnect', 10_000)
    } finally {
      await Promise.all(clients.map((client) => client.close()))
      await Promise.all([first.close(), second.close()])
    }
  })

  test('with Redis stopped the routers keep answering on local counters, and share them again once it is back', async () => {
    const logs = new LogCapture()
    const env = { CLIENT_KEYS_FILE: await writeClientsFile({ requestsPerMinute: 4 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'outage:', LOG_LEVEL: 'info' }
    const first = await startRouter(upstream, env, { logs })
    const second = await startRouter(upstream, env)
    try {
      await redis.stop()
      // Each router now counts on its own: four requests each pass, the fifth on each is refused.
      for (const router of [first, second]) {
        for (let request = 0; request < 4; request++) assert.equal(await statusOf(router), 200)
        assert.equal(await statusOf(router), 429)
      }
      assert.equal(logs.find({ msg: 'Redis is unreachable: rate limits, budgets and the cache use this process\'s own state until it returns' }).length, 1, 'the outage is logged once')

      await redis.start()
      await waitFor(() => logs.find({ msg: 'Redis is reachable again: rate limits, budgets and the cache are shared again' }).length === 1, 'the router to reconnect', 10_000)
      await waitFor(() => second.app.redis?.reachable === true, 'the second router to reconnect', 10_000)
      // The fresh Redis has new counters, shared again: four requests across both routers, then 429 on either.
      const statuses = []
      for (let request = 0; request < 5; request++) statuses.push(await statusOf(request % 2 === 0 ? second : first))
      assert.deepEqual(statuses, [200, 200, 200, 200, 429])
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  test('a command slower than REDIS_COMMAND_TIMEOUT_MS falls back to local state for that request only, and the next one is shared again', async () => {
    const logs = new LogCapture()
    const shared = new SharedRedis(redis.url, 'slow:', pino({ level: 'info' }, logs.stream), 200)
    const pauser = new SharedRedis(redis.url, 'slow:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
    await Promise.all([shared.connect(), pauser.connect()])
    try {
      // CLIENT PAUSE holds every other client's commands: the connection stays up, the command is only slow.
      await pauser.client.call('CLIENT', 'PAUSE', '1000', 'ALL')
      assert.equal(await shared.orLocal(async (client) => client.get(shared.key('k')), () => 'local'), 'local')
      assert.equal(logs.find({ msg: 'Redis is unreachable: rate limits, budgets and the cache use this process\'s own state until it returns' }).length, 1)
      await pauser.client.call('CLIENT', 'UNPAUSE')
      await waitFor(async () => await shared.orLocal(async (client) => client.set(shared.key('k'), 'remote'), () => 'local') === 'OK', 'a command to reach Redis again')
      assert.equal(logs.find({ msg: 'Redis is reachable again: rate limits, budgets and the cache are shared again' }).length, 1, 'its success says shared state resumed')
    } finally {
      await Promise.all([shared.close(), pauser.close()])
    }
  })

  test('after a command times out, Redis is not asked again until REDIS_BACKOFF_MS has passed; then one command probes it', async () => {
    let now = 1_000_000
    const shared = new SharedRedis(redis.url, 'backoff:', pino({ level: 'silent' }), 200, () => now)
    const pauser = new SharedRedis(redis.url, 'backoff:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
    await Promise.all([shared.connect(), pauser.connect()])
    const read = async () => shared.orLocal(async (client) => await client.get(shared.key('k')) ?? 'remote', () => 'local')
    try {
      await pauser.client.call('CLIENT', 'PAUSE', '1500', 'ALL')
      assert.equal(await read(), 'local', 'the first command times out')
      const started = performance.now()
      for (let command = 0; command < 5; command++) assert.equal(await read(), 'local', 'no command reaches Redis while backing off')
      assert.ok(performance.now() - started < 150, 'and none waits for it')
      // The pauser's own commands wait out the pause too: its answer says Redis answers again.
      await pauser.client.ping()
      assert.equal(await read(), 'local', 'still backing off on the injected clock')
      now += REDIS_BACKOFF_MS
      const [probe, during] = await Promise.all([read(), read()])
      assert.deepEqual([probe, during], ['remote', 'local'], 'one probe; the others keep to local state until it answers')
      assert.equal(await read(), 'remote', 'its success resumes shared state')
    } finally {
      await Promise.all([shared.close(), pauser.close()])
    }
  })

  test('a stalled Redis (CLIENT PAUSE) costs a request one command timeout, not one per command', async () => {
    const timeoutMs = 1000
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ requestsPerMinute: 100, tokensPerMinute: 100_000 }), REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: String(timeoutMs), REDIS_KEY_PREFIX: 'stalled:' })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    const pauser = new SharedRedis(redis.url, 'stalled:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
    await pauser.connect()
    try {
      // Rate limit, budget check, cache read, owner, cache write, budget spend: six commands, in turn.
      assert.equal((await client.callTool({ name: 'chat', arguments: { prompt: 'stalled?', temperature: 0 } })).isError, undefined)
      await pauser.client.call('CLIENT', 'PAUSE', String(4 * timeoutMs), 'ALL')
      const started = performance.now()
      const answer = await client.callTool({ name: 'chat', arguments: { prompt: 'stalled now?', temperature: 0 } })
      const tookMs = performance.now() - started
      assert.equal(answer.isError, undefined, textOf(answer))
      assert.ok(tookMs < 2.5 * timeoutMs, `the call took ${Math.round(tookMs)} ms with a stalled Redis (one timeout is ${timeoutMs} ms)`)
      await pauser.client.ping()
    } finally {
      await pauser.close()
      await client.close()
      await router.close()
    }
  })

  test('a cached answer replayed to another client after a restart keeps its creator as owner, with Redis gone too', async () => {
    const env = { CLIENT_KEYS_FILE: await writeClientsFile(), ...redis.routerEnv, REDIS_KEY_PREFIX: 'owners:' }
    const call = { name: 'chat', arguments: { prompt: 'whose is it?', temperature: 0 } }
    const first = await startRouter(upstream, env)
    const alice = await connectClient(first, bearer(TEAM_A_KEY))
    const created = await alice.callTool(call)
    const { responseId } = created.structuredContent as { responseId: string }
    await alice.close()
    await first.close()

    const restarted = await startRouter(upstream, env)
    const [aliceAgain, bob] = await Promise.all([
      connectClient(restarted, bearer(TEAM_A_KEY)),
      connectClient(restarted, bearer(TEAM_B_KEY)),
    ])
    try {
      const replayed = await bob.callTool(call)
      assert.equal((replayed.structuredContent as { cache: string }).cache, 'hit')
      assert.equal((replayed.structuredContent as { responseId: string }).responseId, responseId)
      await redis.stop()
      const stored = { json: upstream.responseBody('gpt-4.1-mini', 'stored', { id: responseId }) }
      upstream.script('GET /v1/responses/{id}', stored, stored)
      const before = upstream.received('GET /v1/responses/{id}').length
      const bobs = await bob.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      assert.equal(errorMeta(bobs).code, 'not_found', textOf(bobs))
      assert.equal(upstream.received('GET /v1/responses/{id}').length, before, 'Bob\'s call never reached the upstream')
      const alices = await aliceAgain.callTool({ name: 'get_response', arguments: { response_id: responseId } })
      assert.equal(alices.isError, undefined, textOf(alices))
      const unknown = await bob.callTool({ name: 'cancel_response', arguments: { response_id: 'resp_nobody_knows' } })
      assert.equal(errorMeta(unknown).code, 'not_found', 'a response no one is known to own is refused')
    } finally {
      await Promise.all([aliceAgain.close(), bob.close()])
      await restarted.close()
      upstream.reset()
      await redis.start()
    }
  })

  test('a corrupt cache entry in Redis is a miss, logged once, and the next answer replaces it', async () => {
    const logs = new LogCapture()
    const router = await startRouter(upstream, { ...redis.routerEnv, REDIS_KEY_PREFIX: 'corrupt:', LOG_LEVEL: 'warn' }, { logs })
    const client = await connectClient(router)
    const inspector = new SharedRedis(redis.url, 'corrupt:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
    await inspector.connect()
    const call = { name: 'chat', arguments: { prompt: 'corrupt me', temperature: 0 } }
    const cacheOf = (result: object) => (result as { structuredContent: { cache: string } }).structuredContent.cache
    try {
      assert.equal(cacheOf(await client.callTool(call)), 'miss')
      const [key] = await inspector.client.keys(inspector.key('cache', '*'))
      assert.ok(key, 'the answer is stored in Redis')
      // The last is an answer as versions before this one stored it: an MCP result, not a chat answer.
      const earlierFormat = JSON.stringify({ content: [{ type: 'text', text: '4' }], structuredContent: { model: 'gpt-4.1-mini', text: '4', status: 'completed' } })
      for (const corrupt of ['{not json', '42', '{"content": "no list"}', earlierFormat]) {
        await inspector.client.set(key, corrupt, 'PX', 60_000)
        const answer = await client.callTool(call)
        assert.equal(answer.isError, undefined, textOf(answer))
        assert.equal(cacheOf(answer), 'miss', `${corrupt} is a miss`)
        assert.equal(cacheOf(await client.callTool(call)), 'hit', 'the new answer replaced it')
      }
      const warned = logs.find({ msg: 'a response cache entry is not a stored answer; it is treated as a miss and replaced by the next answer' })
      assert.equal(warned.length, 1, 'one warning for the key, however often it was corrupt')
      assert.equal(warned[0]?.level, 40)
    } finally {
      await inspector.close()
      await client.close()
      await router.close()
    }
  })

  test('fractional usage from the upstream is no count: Redis is not taken for unreachable and the budget still counts', async () => {
    const logs = new LogCapture()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile({ tokensPerMinute: 1000 }), ...redis.routerEnv, REDIS_KEY_PREFIX: 'fractional:', LOG_LEVEL: 'info' }, { logs })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    try {
      upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'fractional', { usage: { input_tokens: 1.5, output_tokens: 2.5, total_tokens: 4 } }) })
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })
      assert.equal(result.isError, undefined)
      assert.equal((await client.callTool({ name: 'chat', arguments: { prompt: 'hi' } })).isError, undefined)
      assert.equal(logs.find({ msg: 'Redis is unreachable: rate limits, budgets and the cache use this process\'s own state until it returns' }).length, 0)
      const minute = Math.floor(Date.now() / 60_000)
      const counter = new SharedRedis(redis.url, 'fractional:', pino({ level: 'silent' }), REDIS_TEST_COMMAND_TIMEOUT_MS)
      await counter.connect()
      try {
        const counted = await counter.client.mget([minute - 1, minute].map((id) => counter.key('tokens', 'team-a', 'minute', id)))
        assert.deepEqual(counted.filter(Boolean), ['18'], 'only the second answer, whose usage is a count, is counted')
      } finally {
        await counter.close()
      }
    } finally {
      await client.close()
      await router.close()
    }
  })

  test('a router starts while Redis is down, serves, and uses Redis once it answers', async () => {
    await redis.stop()
    const logs = new LogCapture()
    const router = await startRouter(upstream, { ...redis.routerEnv, REDIS_KEY_PREFIX: 'late:', LOG_LEVEL: 'info' }, { logs })
    try {
      assert.equal(logs.find({ msg: 'Redis is unreachable: rate limits, budgets and the cache use this process\'s own state until it returns' }).length, 1)
      const readiness = await fetch(`${router.url}/ready`)
      assert.equal(readiness.status, 200, 'ready without Redis')
      assert.deepEqual((await readiness.json() as { checks: { sharedState: unknown } }).checks.sharedState, { store: 'redis', status: 'unreachable' })
      const response = await postMcp(router, initializeMessage)
      assert.equal(response.status, 200)
      await response.body?.cancel()
      await redis.start()
      await waitFor(() => router.app.redis?.reachable === true, 'the router to connect', 10_000)
      assert.deepEqual((await (await fetch(`${router.url}/ready`)).json() as { checks: { sharedState: unknown } }).checks.sharedState, { store: 'redis', status: 'ok' })
    } finally {
      await router.close()
    }
  })
})
