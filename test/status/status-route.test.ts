import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Script } from 'node:vm'
import { statusScript } from '../../src/status/page-script.js'
import { statusStyle } from '../../src/status/page-style.js'
import { bearer, METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, sha256, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { connectClient, type RunningRouter, startRouter } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

const OPERATOR_KEY = 'mor_operator-secret-key-0123456789'

async function clientsWithOperator (): Promise<string> {
  const path = await writeClientsFile({ tokensPerDay: 1000 })
  const { readFile, writeFile } = await import('node:fs/promises')
  const file = JSON.parse(await readFile(path, 'utf8')) as { clients: unknown[] }
  file.clients.push({ name: 'ops', keyHash: sha256(OPERATOR_KEY), operator: true })
  await writeFile(path, JSON.stringify(file))
  return path
}

describe('GET /status with client keys', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { CLIENT_KEYS_FILE: await clientsWithOperator(), ...METRICS_TOKEN_ENV, ALLOWED_HOSTS: '127.0.0.1' })
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    await client.callTool({ name: 'chat', arguments: { prompt: 'hello' } })
    await client.close()
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('without a credential, or with a wrong one, answers 401 with a sign-in form and nothing of the router\'s state', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-metrics-token-at-all' }, { authorization: 'Basic abc' }]) {
      const page = await fetch(`${router.url}/status`, { headers })
      assert.equal(page.status, 401)
      assert.match(page.headers.get('www-authenticate') ?? '', /^Bearer realm="status"/)
      const html = await page.text()
      assert.match(html, /<form method="post" action="\/status\/sign-in"/)
      assert.doesNotMatch(html, /team-a|gpt-4\.1|127\.0\.0\.1:\d+\/v1/)
      const json = await fetch(`${router.url}/status.json`, { headers })
      assert.equal(json.status, 401)
      assert.deepEqual(Object.keys(await json.json() as object), ['error'])
      assert.equal((await fetch(`${router.url}/status/live`, { headers })).status, 401)
    }
  })

  test('a client key that is not an operator\'s gets 403, an operator\'s and METRICS_TOKEN get the page', async () => {
    assert.equal((await fetch(`${router.url}/status.json`, bearer(TEAM_B_KEY))).status, 403)
    for (const headers of [METRICS_AUTHORIZATION, bearer(OPERATOR_KEY).headers]) {
      const page = await fetch(`${router.url}/status`, { headers })
      assert.equal(page.status, 200)
      const html = await page.text()
      assert.match(html, /data-client="team-a"/)
      assert.match(html, /<tr data-seq="1" data-client="team-a" data-tool="chat" data-outcome="ok">/)
      assert.ok(!html.includes(TEAM_A_KEY) && !html.includes('hello'), 'neither a key nor a prompt')
    }
  })

  test('the JSON form has the same snapshot: calls, usage against limits, providers; after `since` only the newer calls', async () => {
    const snapshot = await (await fetch(`${router.url}/status.json`, { headers: METRICS_AUTHORIZATION })).json() as {
      calls: Array<{ seq: number, client: string, tool: string, inputTokens: number }>
      clients: Array<{ name: string, usage: Array<{ measure: string, period: string, used: number, limit?: number }> }>
      providers: Array<{ name: string, ready: boolean, models: Array<{ calls: number }> }>
      lastSeq: number
    }
    assert.deepEqual(snapshot.calls.map(({ seq, client, tool }) => ({ seq, client, tool })), [{ seq: 1, client: 'team-a', tool: 'chat' }])
    const day = snapshot.clients.find((client) => client.name === 'team-a')?.usage.find((row) => row.measure === 'tokens' && row.period === 'day')
    assert.ok(day && day.used > 0 && day.limit === 1000)
    assert.equal(snapshot.providers[0]?.name, 'openai')
    assert.equal(snapshot.providers[0]?.models[0]?.calls, 1)
    const newer = await (await fetch(`${router.url}/status.json?since=${snapshot.lastSeq}`, { headers: METRICS_AUTHORIZATION })).json() as { calls: unknown[] }
    assert.deepEqual(newer.calls, [])
  })

  test('every answer carries a Content-Security-Policy that allows nothing from another origin', async () => {
    for (const path of ['/status', '/status.json', '/status/app.js']) {
      const csp = (await fetch(`${router.url}${path}`, { headers: METRICS_AUTHORIZATION })).headers.get('content-security-policy') ?? ''
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /script-src 'self'/)
      assert.doesNotMatch(csp, /unsafe-inline|https?:|\*/)
    }
  })

  test('follows /mcp\'s Origin and Host rules: a foreign Origin or Host gets 403, whatever the token', async () => {
    const foreignOrigin = await fetch(`${router.url}/status`, { headers: { ...METRICS_AUTHORIZATION, origin: 'https://evil.example' } })
    assert.equal(foreignOrigin.status, 403)
    assert.match(await foreignOrigin.text(), /ALLOWED_ORIGINS/)
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve, reject) => {
      request(`${router.url}/status`, { headers: { ...METRICS_AUTHORIZATION, host: 'rebound.example' } }, (response) => { response.resume(); resolve(response.statusCode ?? 0) }).on('error', reject).end()
    })
    assert.equal(status, 403)
  })

  test('a browser signs in with the form and gets an HttpOnly, SameSite=Strict session cookie; a forged one is refused; signing out ends it', async () => {
    const wrong = await fetch(`${router.url}/status/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=wrong-token', redirect: 'manual' })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.headers.get('set-cookie'), null)
    const signIn = await fetch(`${router.url}/status/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${encodeURIComponent(OPERATOR_KEY)}`, redirect: 'manual' })
    assert.equal(signIn.status, 303)
    assert.equal(signIn.headers.get('location'), '/status')
    const setCookie = signIn.headers.get('set-cookie') ?? ''
    assert.match(setCookie, /^mor_status=[\w-]+\.[\w-]+; Path=\/status; Max-Age=28800; HttpOnly; SameSite=Strict$/)
    assert.ok(!setCookie.includes(OPERATOR_KEY) && !setCookie.includes(sha256(OPERATOR_KEY)), 'the cookie is not the key')
    const session = setCookie.split(';')[0] ?? ''
    const page = await fetch(`${router.url}/status`, { headers: { cookie: session } })
    assert.equal(page.status, 200)
    assert.match(await page.text(), /read as operator ops/)
    const [payload, mac] = session.slice('mor_status='.length).split('.')
    const forged = Buffer.from(JSON.stringify(['metrics_token', Date.now() + 3600_000])).toString('base64url')
    assert.equal((await fetch(`${router.url}/status`, { headers: { cookie: `mor_status=${forged}.${mac}` } })).status, 401)
    assert.equal((await fetch(`${router.url}/status`, { headers: { cookie: `mor_status=${payload}.${mac}x` } })).status, 401)
    const signOut = await fetch(`${router.url}/status/sign-out`, { method: 'POST', headers: { cookie: session }, redirect: 'manual' })
    assert.match(signOut.headers.get('set-cookie') ?? '', /^mor_status=; Path=\/status; Max-Age=0;/)
  })
})

describe('the page\'s own files', () => {
  test('the script is JavaScript a browser can run, and the script and style sheet load nothing from elsewhere', () => {
    assert.doesNotThrow(() => new Script(statusScript, { filename: 'app.js' }))
    assert.doesNotMatch(statusScript, /https?:\/\/|import\(|eval\(|new Function/)
    assert.doesNotMatch(statusStyle, /url\(|@import/)
  })
})

describe('GET /status without a way in', () => {
  test('client keys without METRICS_TOKEN, an operator or OAUTH_STATUS_SCOPE: 403 for everyone, naming the settings', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile() })
    try {
      const page = await fetch(`${router.url}/status`, bearer(TEAM_A_KEY))
      assert.equal(page.status, 403)
      const html = await page.text()
      assert.match(html, /METRICS_TOKEN/)
      assert.doesNotMatch(html, /<form method="post" action="\/status\/sign-in"|data-client/)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('a router open to all with no METRICS_TOKEN shows its status to all, as it serves /metrics', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream)
    try {
      const page = await fetch(`${router.url}/status`)
      assert.equal(page.status, 200)
      assert.match(await page.text(), /read as anyone \(the router is open\)/)
    } finally {
      await router.close()
      await upstream.close()
    }
  })

  test('counts open sessions and open SSE streams, and forgets a stream when it closes', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { MCP_SESSIONS: 'stateful' })
    const facts = async () => (await (await fetch(`${router.url}/status.json`)).json() as { router: { openSessions: number, openStreams: number } }).router
    try {
      const client = await connectClient(router)
      // The SDK client opens the session's GET stream once initialized.
      await waitFor(async () => (await facts()).openStreams === 1, 'the GET stream to count')
      assert.equal((await facts()).openSessions, 1)
      await client.close()
      await waitFor(async () => (await facts()).openStreams === 0, 'the closed stream to be forgotten')
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})
