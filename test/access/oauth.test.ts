import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ClientCredentialsProvider, Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { OAuth2Server } from 'oauth2-mock-server'
import type { Client } from '../../src/access/client-keys.js'
import { AccessTokens, JWKS_COOLDOWN_MS } from '../../src/access/oauth.js'
import { buildApp } from '../../src/app.js'
import { bearer, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { ManualClock } from '../support/clock.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { freePort } from '../support/ports.js'
import { connectClient, initializeMessage, postMcp, type RunningRouter, startRouter, TEST_API_KEY } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

type Payload = Record<string, unknown>

const chatCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'chat', arguments: { prompt: 'hello' } } }

/**
 * A started test issuer, the fake upstream and a router taking the issuer's tokens, on a port
 * chosen first (PUBLIC_URL names it).
 */
async function startSignedIn (env: Record<string, string>) {
  const issuer = new OAuth2Server()
  await issuer.issuer.keys.generate('RS256')
  await issuer.start(0, '127.0.0.1')
  const upstream = await FakeOpenAI.start()
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const settings = { PUBLIC_URL: publicUrl, OAUTH_ISSUER: issuer.issuer.url as string, ...env }
  const router = await startRouter(upstream, settings, { port })
  return {
    issuer,
    upstream,
    router,
    publicUrl,
    resource: `${publicUrl}/mcp`,
    async close () {
      await router.close()
      await upstream.close()
      await issuer.stop()
    },
  }
}

describe('OAuth access tokens (OAUTH_ISSUER)', () => {
  let issuer: OAuth2Server
  let upstream: FakeOpenAI
  let router: RunningRouter
  let publicUrl: string
  let resource: string

  /**
   * A token of the test issuer for `sub`, meant for this router, with `scope`; `change` edits the
   * payload before signing.
   */
  const token = async (
    sub: string,
    scope: string,
    change: (payload: Payload) => void = () => {},
    options: { kid?: string, expiresIn?: number } = {}
  ) =>
    issuer.issuer.buildToken({
      ...options,
      scopesOrTransform: (_header, payload) => {
        Object.assign(payload, { sub, aud: resource, scope })
        change(payload)
      },
    })

  let close: () => Promise<void>

  before(async () => {
    ({ issuer, upstream, router, publicUrl, resource, close } = await startSignedIn({
      CLIENT_KEYS_FILE: await writeClientsFile({ requestsPerMinute: 8 }),
      OAUTH_REQUIRED_SCOPES: 'mcp:tools',
      OAUTH_TOOL_SCOPES: JSON.stringify({ generate_image: 'mcp:images' }),
    }))
  })

  after(async () => { await close() })

  test('the protected resource metadata names the resource, the issuer and the scopes, at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const response = await fetch(new URL(path, router.url))
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), {
        resource,
        authorization_servers: [issuer.issuer.url],
        scopes_supported: ['mcp:tools', 'mcp:images'],
        bearer_methods_supported: ['header'],
        resource_name: 'MCP OpenAI Router',
      })
    }
  })

  test('without a token: 401 whose challenge points at the resource metadata', async () => {
    const response = await postMcp(router, initializeMessage)
    assert.equal(response.status, 401)
    assert.equal(response.headers.get('www-authenticate'), `Bearer realm="mcp-openai-router", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp"`)
  })

  test('a valid token: the tools work in both eras, as the principal\'s client entry, with its limits', async () => {
    upstream.reset()
    const access = await token('team-a', 'mcp:tools openid')
    const modern = new ModernClient({ name: 'oauth-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await modern.connect(new ModernTransport(router.mcpUrl, { requestInit: bearer(access) }))
    const echoed = await modern.callTool({ name: 'echo', arguments: { text: 'signed in' } })
    assert.equal(echoed.isError, undefined)
    // team-a's entry allows gpt-4.1* only: the token's principal gets exactly that policy.
    const refused = await modern.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-5' } })
    assert.equal(refused.isError, true)
    assert.match(JSON.stringify(refused.content), /gpt-5/)
    await modern.close()
    const legacy = await connectClient(router, bearer(access))
    const chat = await legacy.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-4.1-mini' } })
    assert.equal(chat.isError, undefined)
    assert.equal(upstream.received('POST /v1/responses').length, 1)
    // requestsPerMinute: 8 in team-a's entry (team-b, a client key, has none): the principal
    // reaches it within a few more requests.
    const statuses: number[] = []
    while (statuses.length < 8 && !statuses.includes(429)) {
      statuses.push((await postMcp(router, initializeMessage, bearer(access).headers)).status)
    }
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(', ')}`)
    await legacy.close()
  })

  test('a signed-in principal reaches every tool the router offers', async () => {
    upstream.reset()
    upstream.backgroundPolls = 0
    const client = new ModernClient({ name: 'oauth-every-tool', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new ModernTransport(router.mcpUrl, { requestInit: bearer(await token('team-b', 'mcp:tools mcp:images')) }))
    try {
      const started = await client.callTool({ name: 'chat', arguments: { prompt: 'in the background', background: true } })
      const responseId = (started.structuredContent as { responseId: string }).responseId
      const calls: Record<string, Record<string, unknown>> = {
        chat: { prompt: 'hi' },
        get_response: { response_id: responseId },
        cancel_response: { response_id: responseId },
        embed: { input: ['a'] },
        generate_image: { prompt: 'a square' },
        list_models: {},
        echo: { text: 'hi' },
      }
      const { tools } = await client.listTools()
      assert.deepEqual(tools.map((tool) => tool.name).sort(), Object.keys(calls).sort(), 'every tool is offered to this token')
      for (const [name, args] of Object.entries(calls)) {
        const result = await client.callTool({ name, arguments: args })
        assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result.content)}`)
      }
    } finally {
      upstream.backgroundPolls = 2
      await client.close()
    }
  })

  test('a token not yet valid (nbf in the future, past the clock skew) is refused', async () => {
    upstream.reset()
    const early = await token('team-b', 'mcp:tools', (payload) => { payload.nbf = Math.floor(Date.now() / 1000) + 600 })
    const response = await postMcp(router, chatCall, bearer(early).headers)
    assert.equal(response.status, 401)
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    assert.equal(upstream.requests.length, 0)
  })

  test('bad tokens of every kind are refused before any upstream call', async () => {
    upstream.reset()
    const valid = await token('team-b', 'mcp:tools')
    const [header, payload] = valid.split('.')
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), sub: 'team-a' })).toString('base64url')}.${valid.split('.')[2]}`
    const cases: Array<[string, string, number, RegExp]> = [
      ['expired', await token('team-b', 'mcp:tools', () => {}, { expiresIn: -3600 }), 401, /error="invalid_token", error_description="the token has expired/],
      ['meant for another service', await token('team-b', 'mcp:tools', (p) => { p.aud = 'https://other.example.com/mcp' }), 401, /error="invalid_token".*\(aud\)/],
      ['from another issuer', await token('team-b', 'mcp:tools', (p) => { p.iss = 'https://evil.example.com' }), 401, /error="invalid_token".*\(iss\)/],
      ['with a bad signature', tampered, 401, /error="invalid_token", error_description="the token's signature does not verify"/],
      ['unsigned (alg: none)', unsigned, 401, /error="invalid_token"/],
      ['without the required scope', await token('team-b', 'openid'), 403, /error="insufficient_scope".*scope="mcp:tools"/],
    ]
    for (const [kind, bad, status, challenge] of cases) {
      const response = await postMcp(router, chatCall, bearer(bad).headers)
      assert.equal(response.status, status, kind)
      assert.match(response.headers.get('www-authenticate') ?? '', challenge, kind)
      assert.match(response.headers.get('www-authenticate') ?? '', /resource_metadata="/, kind)
    }
    const unknown = await postMcp(router, chatCall, bearer(await token('nobody', 'mcp:tools')).headers)
    assert.equal(unknown.status, 403)
    assert.match((await unknown.json() as { error: { message: string } }).error.message, /sub "nobody" has no client entry/)
    assert.deepEqual(upstream.requests, [])
  })

  test('a tool gated by a scope is hidden from tokens without it and refused with 403 insufficient_scope', async () => {
    upstream.reset()
    const client = await connectClient(router, bearer(await token('team-b', 'mcp:tools')))
    const { tools } = await client.listTools()
    assert.ok(!tools.some((tool) => tool.name === 'generate_image'))
    assert.ok(tools.some((tool) => tool.name === 'chat'))
    await client.close()
    const call = { ...chatCall, params: { name: 'generate_image', arguments: { prompt: 'a cat' } } }
    const refused = await postMcp(router, call, bearer(await token('team-b', 'mcp:tools')).headers)
    assert.equal(refused.status, 403)
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="mcp:images"/)
    assert.deepEqual(upstream.requests, [])
    const scoped = await connectClient(router, bearer(await token('team-b', 'mcp:tools mcp:images')))
    assert.ok((await scoped.listTools()).tools.some((tool) => tool.name === 'generate_image'))
    await scoped.close()
  })

  test('after the issuer rotates its key, a token of the new key is accepted (its JWKS is fetched again)', async () => {
    const key = await issuer.issuer.keys.generate('RS256')
    const rotated = await token('team-b', 'mcp:tools', () => {}, { kid: key.kid })
    // jose refetches an unknown kid at most once per cooldown (5 s): the first tries may fall within it.
    await waitFor(async () => (await postMcp(router, initializeMessage, bearer(rotated).headers)).status === 200, 'the rotated key to be fetched', 20_000)
  })

  test('client keys keep working beside tokens', async () => {
    const client = await connectClient(router, bearer(TEAM_B_KEY))
    assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'key' } })).isError, undefined)
    await client.close()
  })

  test('/ready reports the issuer\'s keys as reachable', async () => {
    const ready = await (await fetch(new URL('/ready', router.url))).json() as { checks: { access: { oauth?: unknown } } }
    assert.deepEqual(ready.checks.access.oauth, { issuer: issuer.issuer.url, keys: 'ok' })
  })

  test('the SDK client signs in by itself with client credentials (discovery from the 401, token from the issuer)', async () => {
    const onSigning = (signed: { payload: Payload }) => Object.assign(signed.payload, { sub: 'team-b', aud: resource, scope: 'mcp:tools' })
    issuer.service.on('beforeTokenSigning', onSigning)
    try {
      const client = new ModernClient({ name: 'oauth-sdk', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
      const authProvider = new ClientCredentialsProvider({ clientId: 'router-test', clientSecret: 'secret', scope: 'mcp:tools', expectedIssuer: issuer.issuer.url as string })
      await client.connect(new ModernTransport(router.mcpUrl, { authProvider }))
      assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'sdk' } })).isError, undefined)
      await client.close()
    } finally {
      issuer.service.off('beforeTokenSigning', onSigning)
    }
  })
})

describe('OAuth settings', () => {
  const start = async (env: Record<string, string>) => buildApp({ env: { OPENAI_API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent', CLIENT_KEYS_FILE: await writeClientsFile(), ...env } })

  test('each bad setting stops start-up with one line naming it', async () => {
    await assert.rejects(start({ OAUTH_ISSUER: 'https://kc.example.com/realms/acme' }), /OAUTH_ISSUER needs PUBLIC_URL/)
    await assert.rejects(start({ OAUTH_ISSUER: 'https://kc.example.com/realms/acme', PUBLIC_URL: 'https://mcp.example.com', OAUTH_ALGORITHMS: 'RS256,HS256' }), /OAUTH_ALGORITHMS .*"HS256" is not one/)
    await assert.rejects(start({ OAUTH_ISSUER: 'https://kc.example.com/realms/acme', PUBLIC_URL: 'https://mcp.example.com', OAUTH_TOOL_SCOPES: '["chat"]' }), /OAUTH_TOOL_SCOPES must be a JSON object/)
    await assert.rejects(start({ OAUTH_ISSUER: 'https://kc.example.com/realms/acme', PUBLIC_URL: 'https://mcp.example.com', OAUTH_DEFAULT_CLIENT: 'nobody' }), /OAUTH_DEFAULT_CLIENT names "nobody"/)
    await assert.rejects(start({ OAUTH_REQUIRED_SCOPES: 'mcp:tools' }), /OAUTH_REQUIRED_SCOPES needs OAUTH_ISSUER/)
  })
})

describe('OAuth edges', () => {
  test('OAUTH_DEFAULT_CLIENT: a principal no client entry names gets that entry\'s policy', async () => {
    const issuer = new OAuth2Server()
    await issuer.issuer.keys.generate('RS256')
    await issuer.start(0, '127.0.0.1')
    const upstream = await FakeOpenAI.start()
    const port = await freePort()
    const router = await startRouter(upstream, {
      CLIENT_KEYS_FILE: await writeClientsFile(),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OAUTH_ISSUER: issuer.issuer.url as string,
      OAUTH_DEFAULT_CLIENT: 'team-a',
    }, { port })
    try {
      const access = await issuer.issuer.buildToken({ scopesOrTransform: (_header, payload) => { Object.assign(payload, { sub: 'someone-new', aud: `http://127.0.0.1:${port}/mcp` }) } })
      const client = new ModernClient({ name: 'oauth-default', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
      await client.connect(new ModernTransport(router.mcpUrl, { requestInit: bearer(access) }))
      assert.equal((await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-4.1-mini' } })).isError, undefined)
      // team-a's allow-list applies to the newcomer.
      assert.equal((await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-5' } })).isError, true)
      await client.close()
    } finally {
      await router.close()
      await upstream.close()
      await issuer.stop()
    }
  })

  test('keys that cannot be fetched: a token gets 503 with Retry-After, not a sign-in loop; /ready says so and stays ready', async () => {
    const upstream = await FakeOpenAI.start()
    const port = await freePort()
    const nowhere = await freePort()
    const router = await startRouter(upstream, {
      CLIENT_KEYS_FILE: await writeClientsFile(),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OAUTH_ISSUER: 'https://issuer.example.com',
      OAUTH_JWKS_URL: `http://127.0.0.1:${nowhere}/jwks`,
      READY_CHECK_UPSTREAM: 'false',
    }, { port })
    try {
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' })).toString('base64url')
      const payload = Buffer.from(JSON.stringify({ sub: 'team-b', iss: 'https://issuer.example.com', aud: `http://127.0.0.1:${port}/mcp`, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')
      const response = await postMcp(router, chatCall, bearer(`${header}.${payload}.c2ln`).headers)
      assert.equal(response.status, 503)
      assert.ok(response.headers.get('retry-after'))
      assert.equal(upstream.requests.length, 0)
      const readiness = await fetch(`${router.url}/ready`)
      assert.equal(readiness.status, 200)
      assert.equal((await readiness.json() as { checks: { access: { oauth: { keys: string } } } }).checks.access.oauth.keys, 'unreachable')
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})

/**
 * An issuer whose discovery document and JWKS a test chooses, answer by answer: the keys are the
 * mock server's (which signs the tokens), the documents whatever `served` holds (the mock's own
 * keys while it holds nothing).
 */
async function hostileIssuer (keys: OAuth2Server) {
  const served = {
    discovery: undefined as string | undefined,
    jwks: undefined as string | undefined,
    jwksRequests: 0,
    discoveryRequests: 0,
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/jwks') {
      served.jwksRequests++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(served.jwks ?? JSON.stringify({ keys: keys.issuer.keys.toJSON() }))
      return
    }
    if (path === '/.well-known/oauth-authorization-server') {
      served.discoveryRequests++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(served.discovery ?? JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }))
      return
    }
    res.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return { url, served, close }
}

describe('the issuer\'s documents, bounded and not trusted for ever', () => {
  let keys: OAuth2Server
  let hostile: Awaited<ReturnType<typeof hostileIssuer>>
  let upstream: FakeOpenAI
  let trusting: Awaited<ReturnType<typeof startTrusting>>
  // The routers' clock: a test moves it past the key set's cooldown rather than wait it out.
  const clock = new ManualClock()
  const cooldownPasses = () => clock.advance(JWKS_COOLDOWN_MS)

  /**
   * A router that takes the hostile issuer's tokens (found by discovery), a token for it, and the
   * status it answers a token with.
   */
  async function startTrusting () {
    const port = await freePort()
    const router = await startRouter(upstream, {
      CLIENT_KEYS_FILE: await writeClientsFile(),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      OAUTH_ISSUER: hostile.url,
      OAUTH_MAX_DOCUMENT_BYTES: String(64 * 1024),
      READY_CHECK_UPSTREAM: 'false',
    }, { port, clock: clock.now })
    return {
      router,
      token: async (kid?: string) => keys.issuer.buildToken({ ...(kid && { kid }), scopesOrTransform: (_header, payload) => { Object.assign(payload, { sub: 'team-b', aud: `http://127.0.0.1:${port}/mcp`, iss: hostile.url }) } }),
      status: async (token: string) => {
        const response = await postMcp(router, initializeMessage, bearer(token).headers)
        await response.body?.cancel()
        return response.status
      },
    }
  }

  before(async () => {
    keys = new OAuth2Server()
    await keys.issuer.keys.generate('RS256')
    // Started only because it signs tokens for its own URL; the tokens name the hostile issuer instead.
    await keys.start(0, '127.0.0.1')
    hostile = await hostileIssuer(keys)
    upstream = await FakeOpenAI.start()
    trusting = await startTrusting()
  })
  after(async () => {
    await trusting.router.close()
    await upstream.close()
    await hostile.close()
    await keys.stop()
  })

  test('a JWKS over OAUTH_MAX_DOCUMENT_BYTES is refused unread (503), and good keys are used once served', async () => {
    const token = await trusting.token()
    hostile.served.jwks = JSON.stringify({ keys: [...keys.issuer.keys.toJSON(), ...Array.from({ length: 5000 }, (_, index) => ({ kty: 'oct', kid: `filler-${index}`, k: 'x'.repeat(64) }))] })
    const before = process.memoryUsage.rss()
    assert.equal(await trusting.status(token), 503)
    assert.ok(process.memoryUsage.rss() - before < 64 * 1024 * 1024)
    hostile.served.jwks = undefined
    cooldownPasses()
    await waitFor(async () => await trusting.status(token) === 200, 'the good keys to be used', 20_000)
  })

  test('a JWKS that is no key set or holds a key that cannot be used, then good keys: accepted within the cooldown', async () => {
    const bads: Array<[string, (kid: string) => string]> = [
      ['not JSON', () => '{not json'],
      ['no JWK set', () => '{"keys": 5}'],
      ['a key of the token\'s kid that cannot be used', (kid) => JSON.stringify({ keys: [{ kty: 'RSA', kid, alg: 'RS256', n: 'AQAB', e: 'AQAB' }] })],
    ]
    for (const [kind, bad] of bads) {
      // A rotation: the router must fetch the key set again for the new kid, and the issuer serves a bad one.
      const { kid } = await keys.issuer.keys.generate('RS256')
      const token = await trusting.token(kid)
      hostile.served.jwks = bad(kid)
      const fetchedBefore = hostile.served.jwksRequests
      cooldownPasses()
      let status = 0
      await waitFor(async () => {
        status = await trusting.status(token)
        return hostile.served.jwksRequests > fetchedBefore
      }, `the router to fetch ${kind}`, 20_000)
      assert.equal(status, 503, kind)
      hostile.served.jwks = undefined
      cooldownPasses()
      await waitFor(async () => await trusting.status(token) === 200, `good keys after ${kind}`, 20_000)
    }
  })

  test('a failing key set is looked up again only once the cooldown has passed, on the injected clock', async () => {
    let now = 1_000_000
    const resource = 'http://127.0.0.1:1/mcp'
    const teamB: Client = { name: 'team-b', models: undefined, requestsPerMinute: undefined, tokens: {}, usd: {}, operator: false, hasKey: false }
    const config = { resource, resourceMetadataUrl: `${resource}/.well-known`, issuer: hostile.url, audiences: [resource], jwksUrl: undefined, algorithms: ['RS256'], principalClaim: 'sub', defaultClient: undefined, requiredScopes: [], toolScopes: {}, statusScope: undefined, clockSkewS: 30, maxDocumentBytes: 64 * 1024 }
    const tokens = new AccessTokens(config, (name) => name === 'team-b' ? teamB : undefined, () => now)
    const token = await keys.issuer.buildToken({ scopesOrTransform: (_header, payload) => { Object.assign(payload, { sub: 'team-b', aud: resource, iss: hostile.url }) } })
    const outcome = async () => {
      const answer = await tokens.authenticate(token)
      return 'status' in answer ? answer.status : answer.client.name
    }
    hostile.served.discovery = JSON.stringify({ issuer: hostile.url, jwks_uri: `${hostile.url}/no-such-jwks` })
    const discoveredBefore = hostile.served.discoveryRequests
    try {
      for (let attempt = 0; attempt < 5; attempt++) assert.equal(await outcome(), 503)
      assert.equal(hostile.served.discoveryRequests - discoveredBefore, 1, 'discovery is not run again within the cooldown')
      hostile.served.discovery = undefined
      assert.equal(await outcome(), 503, 'the bad key set is kept until the cooldown has passed')
      now += JWKS_COOLDOWN_MS
      assert.equal(await outcome(), 'team-b')
      assert.equal(hostile.served.discoveryRequests - discoveredBefore, 2)
    } finally {
      hostile.served.discovery = undefined
    }
  })

  test('a discovery document over the bound, or naming a JWKS that fails, is looked up again', async () => {
    const discovering = await startTrusting()
    try {
      const token = await discovering.token()
      hostile.served.discovery = JSON.stringify({ issuer: hostile.url, jwks_uri: `${hostile.url}/jwks`, padding: 'x'.repeat(128 * 1024) })
      assert.equal(await discovering.status(token), 503, 'a discovery document over OAUTH_MAX_DOCUMENT_BYTES')
      hostile.served.discovery = JSON.stringify({ issuer: hostile.url, jwks_uri: `${hostile.url}/no-such-jwks` })
      assert.equal(await discovering.status(token), 503, 'a JWKS that is not there')
      hostile.served.discovery = undefined
      cooldownPasses()
      await waitFor(async () => await discovering.status(token) === 200, 'the corrected discovery document to be read', 20_000)
    } finally {
      await discovering.router.close()
    }
  })
})

describe('stateless cancellation by who signed in', () => {
  let signedIn: Awaited<ReturnType<typeof startSignedIn>>
  const tokenOf = async (sub: string) => signedIn.issuer.issuer.buildToken({
    scopesOrTransform: (_header, payload) => {
      Object.assign(payload, { sub, aud: signedIn.resource, jti: randomUUID() })
    },
  })
  const headersOf = (credential: string) => ({ authorization: `Bearer ${credential}`, 'user-agent': 'same-agent/1.0' })
  const startCall = async (credential: string, id: number) => postMcp(signedIn.router, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'chat', arguments: { prompt: `call ${id}` } } }, headersOf(credential))
  const cancelCall = async (credential: string, id: number) => {
    const response = await postMcp(signedIn.router, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'stop it' } }, headersOf(credential))
    assert.equal(response.status, 202)
    await response.body?.cancel()
  }

  before(async () => {
    signedIn = await startSignedIn({ CLIENT_KEYS_FILE: await writeClientsFile(), OAUTH_DEFAULT_CLIENT: 'team-a', READY_CHECK_UPSTREAM: 'false' })
  })
  after(async () => { await signedIn.close() })

  test('a principal cancels its own call with a refreshed token', async () => {
    signedIn.upstream.reset()
    signedIn.upstream.script('POST /v1/responses', { delayMs: 10_000, json: signedIn.upstream.responseBody('gpt-4.1-mini', 'too late') })
    const call = startCall(await tokenOf('alice'), 41)
    await waitFor(() => signedIn.upstream.received('POST /v1/responses').length === 1, 'the call to reach the upstream')
    await cancelCall(await tokenOf('alice'), 41)
    await waitFor(() => signedIn.upstream.received('POST /v1/responses')[0]?.closedEarly === true, 'the upstream request to be stopped')
    await (await call).body?.cancel()
  })

  for (const [who, credential] of [
    ['another principal sharing its client entry (OAUTH_DEFAULT_CLIENT)', async () => tokenOf('mallory')],
    ['the client key of that entry', async () => TEAM_A_KEY],
    ['another client key', async () => TEAM_B_KEY],
  ] as const) {
    test(`${who}, from the same address and User-Agent, cannot cancel a principal's call by its id`, async () => {
      signedIn.upstream.reset()
      signedIn.upstream.script('POST /v1/responses', { delayMs: 1500, json: signedIn.upstream.responseBody('gpt-4.1-mini', 'finished') })
      const call = startCall(await tokenOf('alice'), 42)
      await waitFor(() => signedIn.upstream.received('POST /v1/responses').length === 1, 'the call to reach the upstream')
      await cancelCall(await credential(), 42)
      const answer = await (await call).json() as { result: { content: Array<{ text: string }>, isError?: boolean } }
      assert.equal(answer.result.isError, undefined, answer.result.content[0]?.text)
      assert.equal(signedIn.upstream.received('POST /v1/responses')[0]?.closedEarly, false)
    })
  }
})
