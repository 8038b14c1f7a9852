import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { OAuth2Server } from 'oauth2-mock-server'
import { bearer, TEAM_A_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { freePort } from '../support/ports.js'
import { RedisServer, skipWithoutRedis } from '../support/redis.js'
import { connectClient, type RunningRouter, startRouter } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

interface Snapshot {
  router: { replica: string, replicas: Array<{ id: string }>, sharedState: string, redisReachable?: boolean }
  clients: Array<{
    name: string
    usage: Array<{ measure: string, period: string, used: number }>
    principals: string[]
  }>
  calls: Array<{ client?: string, principal?: string, tool: string }>
}

describe('the status page with Redis and OAuth, two replicas', { skip: skipWithoutRedis }, () => {
  let issuer: OAuth2Server
  let redis: RedisServer
  let upstream: FakeOpenAI
  const routers: RunningRouter[] = []
  let resource: string

  const token = async (sub: string, scope: string) => issuer.issuer.buildToken({
    scopesOrTransform: (_header, payload) => { Object.assign(payload, { sub, aud: resource, scope }) },
  })
  const snapshot = async (router: RunningRouter, authorization: string): Promise<Snapshot> => {
    const response = await fetch(`${router.url}/status.json`, { headers: { authorization } })
    assert.equal(response.status, 200)
    return await response.json() as Snapshot
  }
  const tokensToday = (snap: Snapshot) => snap.clients.find((client) => client.name === 'team-a')?.usage.find((row) => row.measure === 'tokens' && row.period === 'day')?.used

  before(async () => {
    issuer = new OAuth2Server()
    await issuer.issuer.keys.generate('RS256')
    await issuer.start(0, '127.0.0.1')
    redis = await RedisServer.start()
    upstream = await FakeOpenAI.start()
    const clientsFile = await writeClientsFile({ tokensPerDay: 100_000 })
    // Both replicas take tokens for the same public URL, as behind one load balancer.
    const port = await freePort()
    resource = `http://127.0.0.1:${port}/mcp`
    for (const listen of [port, 0]) {
      routers.push(await startRouter(upstream, {
        CLIENT_KEYS_FILE: clientsFile,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OAUTH_ISSUER: issuer.issuer.url as string,
        OAUTH_STATUS_SCOPE: 'mcp:status',
        // Principals without an entry of their own (alice) call as team-a.
        OAUTH_DEFAULT_CLIENT: 'team-a',
        ...redis.routerEnv,
      }, { port: listen }))
    }
  })

  after(async () => {
    for (const router of routers) await router.close()
    await upstream.close()
    await redis.stop()
    await issuer.stop()
  })

  test('an access token with OAUTH_STATUS_SCOPE reads the page; one without it, or a client key that is no operator\'s, gets 403', async () => {
    const [first] = routers as [RunningRouter]
    assert.equal((await fetch(`${first.url}/status`, { headers: { authorization: `Bearer ${await token('team-a', 'mcp:status')}` } })).status, 200)
    const unscoped = await fetch(`${first.url}/status.json`, { headers: { authorization: `Bearer ${await token('team-a', 'mcp:tools')}` } })
    assert.equal(unscoped.status, 403)
    assert.match((await unscoped.json() as { error: string }).error, /lacks the scope mcp:status \(OAUTH_STATUS_SCOPE\)/)
    assert.equal((await fetch(`${first.url}/status.json`, bearer(TEAM_A_KEY))).status, 403)
  })

  test('each replica lists both (Redis heartbeats), shows the cluster\'s usage, and its own recent calls', async () => {
    const [first, second] = routers as [RunningRouter, RunningRouter]
    const authorization = `Bearer ${await token('team-b', 'mcp:status')}`
    await waitFor(async () => (await snapshot(second, authorization)).router.replicas.length === 2, 'both replicas to be listed', 20_000)
    const before = await snapshot(second, authorization)
    assert.equal(before.router.sharedState, 'redis')
    assert.equal(before.router.redisReachable, true)
    assert.equal(before.router.replicas[0]?.id, before.router.replica, 'this page\'s replica first')
    const ids = new Set(before.router.replicas.map((replica) => replica.id))
    assert.ok(ids.has((await snapshot(first, authorization)).router.replica))

    // A call with alice's access token, through the first replica, as the client entry she maps to.
    const client = await connectClient(first, { headers: { authorization: `Bearer ${await token('alice', 'mcp:tools')}` } })
    await client.callTool({ name: 'chat', arguments: { prompt: 'hello' } })
    await client.close()
    const after = await snapshot(second, authorization)
    assert.ok((tokensToday(after) ?? 0) > (tokensToday(before) ?? 0), 'the second replica sees the tokens spent through the first')
    assert.deepEqual(after.calls.filter((call) => call.tool === 'chat'), [], 'recent calls are each replica\'s own')
    const own = await snapshot(first, authorization)
    assert.deepEqual(own.calls.filter((call) => call.tool === 'chat').map(({ client, principal }) => ({ client, principal })), [{ client: 'team-a', principal: 'alice' }], 'the call names its client entry and the principal it came from')
    assert.deepEqual(own.clients.find((entry) => entry.name === 'team-a')?.principals, ['alice'])
  })
})
