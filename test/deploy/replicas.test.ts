import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { RedisServer, skipWithoutRedis } from '../support/redis.js'
import { RoundRobinProxy } from '../support/round-robin-proxy.js'
import { type RouterProcess, startRouterProcess } from '../support/router-process.js'
import { TEST_API_KEY } from '../support/router.js'

const REPLICAS = 3
const TEAM_A_REQUESTS_PER_MINUTE = 12

/**
 * What a stateless client does behind a balancer: every call on a fresh connection (so calls
 * spread over the replicas), and a call the network lost, or a draining replica refused, sent again.
 */
function balancedFetch (retries: { count: number }): typeof fetch {
  return async (url, init) => {
    const headers = new Headers(init?.headers)
    headers.set('connection', 'close')
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(url, { ...init, headers })
        if (response.status !== 503 || attempt === 3) return response
        await response.body?.cancel()
      } catch (err) {
        if (attempt === 3) throw err
      }
      retries.count++
    }
  }
}

describe('three router processes behind a round-robin balancer, stateless, sharing Redis', { skip: skipWithoutRedis }, () => {
  let redis: RedisServer
  let upstream: FakeOpenAI
  let replicas: RouterProcess[] = []
  let proxy: RoundRobinProxy
  const clients: Client[] = []
  const retries = { count: 0 }

  async function connect (key: string): Promise<Client> {
    const client = new Client({ name: 'balanced-client', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', proxy.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
      fetch: balancedFetch(retries),
    }))
    clients.push(client)
    return client
  }

  before(async () => {
    redis = await RedisServer.start()
    upstream = await FakeOpenAI.start()
    const env = {
      OPENAI_API_KEY: TEST_API_KEY,
      OPENAI_BASE_URL: upstream.baseURL,
      UPSTREAM_MAX_RETRIES: '0',
      MCP_SESSIONS: 'stateless',
      ...redis.routerEnv,
      CLIENT_KEYS_FILE: await writeClientsFile({ requestsPerMinute: TEAM_A_REQUESTS_PER_MINUTE }),
    }
    replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startRouterProcess(env)))
    proxy = await RoundRobinProxy.start(replicas.map((replica) => replica.port))
  })

  after(async () => {
    await Promise.all(clients.map((client) => client.close()))
    await proxy?.close()
    await Promise.all(replicas.map((replica) => replica.kill()))
    await upstream?.close()
    await redis?.stop()
  })

  test('calls spread over every replica and are answered the same wherever they land', async () => {
    const client = await connect(TEAM_B_KEY)
    for (let call = 0; call < 9; call++) {
      const result = await client.callTool({ name: 'echo', arguments: { text: `call ${call}` } })
      assert.deepEqual(result.content, [{ type: 'text', text: `call ${call}` }])
    }
    assert.deepEqual([...proxy.connections.keys()].sort(), replicas.map((replica) => replica.port).sort())
    for (const count of proxy.connections.values()) assert.ok(count >= 3, `each replica took a share: ${[...proxy.connections.values()]}`)
  })

  test('a client\'s request limit is one limit across the replicas, not one per replica', async () => {
    const client = await connect(TEAM_A_KEY)
    let answered = 0
    let refusal: unknown
    while (answered < REPLICAS * TEAM_A_REQUESTS_PER_MINUTE && refusal === undefined) {
      try {
        await client.callTool({ name: 'echo', arguments: { text: 'counted' } })
        answered++
      } catch (err) {
        refusal = err
      }
    }
    assert.match(String(refusal), /Too Many Requests: client \\"team-a\\" may send 12 requests per minute/)
    // Connecting took some of the 12 requests; per-replica counters would have let 3 × 12 through.
    assert.ok(answered > 0 && answered < TEAM_A_REQUESTS_PER_MINUTE, `answered ${answered} calls before the refusal`)
  })

  test('an answer cached by one replica is served by the others without an upstream call', async () => {
    const client = await connect(TEAM_B_KEY)
    upstream.reset()
    const answers = []
    for (let call = 0; call < REPLICAS; call++) answers.push(await client.callTool({ name: 'chat', arguments: { prompt: 'Cached across replicas', temperature: 0 } }))
    assert.deepEqual(answers.map((answer) => (answer.structuredContent as { cache: string }).cache), ['miss', 'hit', 'hit'])
    assert.equal(upstream.received('POST /v1/responses').length, 1)
  })

  test('when a replica dies under load, the clients carry on through the others and no call fails', async () => {
    const callers = await Promise.all(Array.from({ length: 4 }, () => connect(TEAM_B_KEY)))
    const [victim] = replicas as [RouterProcess]
    let done = 0
    const run = async (client: Client, caller: number) => {
      const results = []
      for (let call = 0; call < 25; call++) {
        if (++done === 30) await victim.kill()
        results.push(await client.callTool({ name: 'echo', arguments: { text: `${caller}/${call}` } }))
      }
      return results
    }
    const results = (await Promise.all(callers.map(run))).flat()
    assert.equal(results.length, 100)
    assert.ok(results.every((result) => result.isError !== true), 'every call answered')
    assert.equal(victim.process.signalCode, 'SIGKILL')
    const servedAfterwards = proxy.connections.get(victim.port)
    const survivor = await connect(TEAM_B_KEY)
    for (let call = 0; call < 6; call++) await survivor.callTool({ name: 'echo', arguments: { text: 'after' } })
    assert.equal(proxy.connections.get(victim.port), servedAfterwards, 'the dead replica takes no more connections')
  })
})
