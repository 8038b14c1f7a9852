import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { buildApp } from '../../src/app.js'
import { bearer, METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, sha256, TEAM_A_KEY, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { parseExposition, sampleValue } from '../support/prometheus.js'
import { errorMeta, textOf } from '../support/results.js'
import { connectClient, initializeMessage, postMcp, type RunningRouter, startRouter, TEST_API_KEY } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

describe('client keys', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  const logs = new LogCapture()

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { CLIENT_KEYS_FILE: await writeClientsFile(), MCP_SESSIONS: 'stateful', LOG_LEVEL: 'debug', ...METRICS_TOKEN_ENV }, { logs })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  test('a request without a key, with a wrong key or with a malformed header is refused with 401 and a Bearer challenge', async () => {
    const cases: Array<{ headers: Record<string, string>, challenge: string | RegExp, message: RegExp }> = [
      { headers: {}, challenge: 'Bearer realm="mcp-openai-router"', message: /send your client key as "Authorization: Bearer <key>"/ },
      { headers: { authorization: 'Bearer not-a-client-key' }, challenge: /^Bearer realm="mcp-openai-router", error="invalid_token"/, message: /not one of this router's client keys/ },
      { headers: { authorization: `Basic ${Buffer.from('team-a:x').toString('base64')}` }, challenge: /error="invalid_request"/, message: /must be "Bearer <key>"/ },
      { headers: { authorization: 'Bearer two words' }, challenge: /error="invalid_request"/, message: /must be "Bearer <key>"/ },
    ]
    for (const { headers, challenge, message } of cases) {
      const response = await postMcp(router, initializeMessage, headers)
      assert.equal(response.status, 401)
      const header = response.headers.get('www-authenticate') ?? ''
      if (typeof challenge === 'string') assert.equal(header, challenge)
      else assert.match(header, challenge)
      const body = await response.json() as { jsonrpc: string, error: { code: number, message: string } }
      assert.equal(body.jsonrpc, '2.0')
      assert.match(body.error.message, message)
    }
    const get = await fetch(router.mcpUrl, { headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' } })
    assert.equal(get.status, 401)
  })

  test('the SDK client without a key cannot connect; with its key it calls tools', async () => {
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' })
    await assert.rejects(anonymous.connect(new StreamableHTTPClientTransport(router.mcpUrl)), /401|Unauthorized/)

    const client = await connectClient(router, bearer(TEAM_B_KEY))
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
    assert.equal(result.isError, undefined)
    assert.match(textOf(result), /hello/)
    await client.close()
  })

  test('health and readiness need no key, and readiness says keys are required', async () => {
    assert.equal((await fetch(`${router.url}/health`)).status, 200)
    const ready = await fetch(`${router.url}/ready`)
    assert.equal(ready.status, 200)
    const body = await ready.json() as { checks: { access: { mode: string, clients: number } } }
    assert.deepEqual(body.checks.access, { mode: 'client_keys', clients: 2 })
  })

  test('a model outside the key\'s allow-list is refused before any upstream call, naming the allowed models', async () => {
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    upstream.reset()
    const refused = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'o3' } })
    assert.equal(refused.isError, true)
    assert.equal(errorMeta(refused).code, 'model_not_allowed')
    assert.match(textOf(refused), /Client "team-a" may not call model "o3"\. Its allowed models: gpt-4\.1\*, embed-\*/)
    assert.equal(upstream.received('POST /v1/responses').length, 0)

    const allowed = await client.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'gpt-4.1-mini' } })
    assert.equal(allowed.isError, undefined)
    // The default model (gpt-4.1-mini) is inside team-a's list; team-b has no list at all.
    const other = await connectClient(router, bearer(TEAM_B_KEY))
    assert.equal((await other.callTool({ name: 'chat', arguments: { prompt: 'hi', model: 'o3' } })).isError, undefined)
    await client.close()
    await other.close()
  })

  test('one client cannot use another client\'s session', async () => {
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    const transport = client.transport as StreamableHTTPClientTransport
    const response = await postMcp(router, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, {
      authorization: `Bearer ${TEAM_B_KEY}`,
      'mcp-session-id': transport.sessionId ?? '',
      'mcp-protocol-version': '2025-11-25',
    })
    assert.equal(response.status, 404)
    await client.close()
  })

  test('the client\'s name is in the log lines and metrics of its calls; no key or key hash is anywhere in the logs', async () => {
    const client = await connectClient(router, bearer(TEAM_A_KEY))
    await client.callTool({ name: 'chat', arguments: { prompt: 'who am I' } })
    await client.close()
    const [line] = logs.find({ rpcMethod: 'tools/call', tool: 'chat', client: 'team-a' })
    assert.ok(line, 'the tools/call line names the client')
    for (const msg of ['MCP session opened', 'upstream call finished']) assert.ok(logs.find({ msg, client: 'team-a' }).length > 0, `"${msg}" names the client`)
    // Fastify's own line of the refused session request (the test above) names the client that sent it.
    assert.ok(logs.find({ msg: 'request completed', client: 'team-b' }).length > 0)
    const everything = logs.raw.join('\n')
    for (const secret of [TEAM_A_KEY, TEAM_B_KEY, sha256(TEAM_A_KEY), sha256(TEAM_B_KEY), TEST_API_KEY]) {
      assert.ok(!everything.includes(secret), 'no key and no hash of a key is logged')
    }
    const metrics = await (await fetch(`${router.url}/metrics`, { headers: METRICS_AUTHORIZATION })).text()
    assert.ok(sampleValue(parseExposition(metrics), 'mcp_router_tokens_total', { client: 'team-a', type: 'input' }) > 0)
  })
})

describe('client key configuration', () => {
  let upstream: FakeOpenAI
  before(async () => { upstream = await FakeOpenAI.start() })
  after(async () => { await upstream.close() })
  const env = (extra: Record<string, string>) => ({ OPENAI_API_KEY: TEST_API_KEY, OPENAI_BASE_URL: upstream.baseURL, LOG_LEVEL: 'silent', ...extra })

  test('CLIENT_KEYS takes name:hash pairs', async () => {
    const router = await startRouter(upstream, { CLIENT_KEYS: `ops:${sha256('ops-key-1')}, ci:sha256:${sha256('ci-key-2')}` })
    try {
      for (const key of ['ops-key-1', 'ci-key-2']) {
        const client = await connectClient(router, bearer(key))
        assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, undefined)
        await client.close()
      }
      assert.equal((await postMcp(router, initializeMessage, { authorization: 'Bearer ops-key-2' })).status, 401)
    } finally {
      await router.close()
    }
  })

  test('a bad clients file, a bad CLIENT_KEYS entry or a key given to two clients stops start-up naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clients-'))
    const badHash = join(dir, 'bad-hash.yaml')
    await writeFile(badHash, 'clients:\n  - name: team-a\n    keyHash: not-a-hash\n')
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS_FILE: badHash }) }), /^ConfigError: Invalid configuration: CLIENT_KEYS_FILE \(.*bad-hash\.yaml\): clients\[0\]\.keyHash/)
    const misspelt = join(dir, 'misspelt.yaml')
    await writeFile(misspelt, `clients:\n  - name: team-a\n    keyHash: ${sha256('a')}\n    tokensPerMinit: 5\n`)
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS_FILE: misspelt }) }), /clients\[0\].*tokensPerMinit/)
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS: 'just-a-name' }) }), /CLIENT_KEYS\[0\] must be name:sha256-hex/)
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS: `a:${sha256('k')},b:${sha256('k')}` }) }), /client "b" has a key hash another client has too/)
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS: `a:${sha256('k')},a:${sha256('j')}` }) }), /client "a" is named twice/)
    await assert.rejects(buildApp({ env: env({ CLIENT_KEYS_FILE: join(dir, 'missing.yaml') }) }), /CLIENT_KEYS_FILE cannot be read \(ENOENT/)
  })

  test('AUTH_REQUIRED=true without keys stops start-up; without it the router runs open, and says so', async () => {
    await assert.rejects(buildApp({ env: env({ AUTH_REQUIRED: 'true' }) }), /^ConfigError: Invalid configuration: AUTH_REQUIRED is true but no client key is configured/)
    const logs = new LogCapture()
    const router = await startRouter(upstream, { LOG_LEVEL: 'info' }, { logs })
    try {
      assert.ok(logs.lines.some((line) => line.level === 40 && /No client keys are configured/.test(line.msg ?? '')), 'a warning at start-up')
      const body = await (await fetch(`${router.url}/ready`)).json() as { checks: { access: { mode: string, warning: string } } }
      assert.equal(body.checks.access.mode, 'open')
      assert.match(body.checks.access.warning, /anyone who reaches \/mcp/)
      const client = await connectClient(router)
      assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, undefined)
      await client.close()
    } finally {
      await router.close()
    }
  })

  test('npm run hash-key prints the SHA-256 of a key given on standard input, or a new key and its hash', async () => {
    const run = (input?: string) => new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'src/hash-key.ts'], (err, stdout) => err ? reject(err) : resolve(stdout))
      child.stdin?.end(input ?? '')
    })
    assert.equal(await run('my-client-key\n'), `hash: ${sha256('my-client-key')}\n`)
    const fresh = await run()
    const key = /^key: {2}(\S+)$/m.exec(fresh)?.[1]
    assert.ok(key && key.length > 40)
    assert.match(fresh, new RegExp(`^hash: ${sha256(key)}$`, 'm'))
  })
})

describe('reloading the clients file', () => {
  test('SIGHUP puts a new clients file in force, and keeps the previous one when the new one is invalid or empty', async () => {
    const upstream = await FakeOpenAI.start()
    const logs = new LogCapture()
    const file = await writeClientsFile()
    const router = await startRouter(upstream, { CLIENT_KEYS_FILE: file, LOG_LEVEL: 'info' }, { logs })
    const teamA = { authorization: bearer(TEAM_A_KEY).headers.authorization }
    const teamB = { authorization: bearer(TEAM_B_KEY).headers.authorization }
    const statusOf = async (headers: Record<string, string>) => {
      const response = await postMcp(router, initializeMessage, headers)
      await response.body?.cancel()
      return response.status
    }
    const hangUp = async (message: string) => {
      const before = logs.lines.filter((line) => String(line.msg).startsWith(message)).length
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => logs.lines.filter((line) => String(line.msg).startsWith(message)).length > before, message)
      return logs.lines.filter((line) => String(line.msg).startsWith(message)).at(-1)
    }
    try {
      assert.equal(await statusOf(teamB), 200)

      // team-b's key is revoked; team-a gains a request limit it did not have at start-up.
      await writeFile(file, JSON.stringify({ clients: [{ name: 'team-a', keyHash: sha256(TEAM_A_KEY), requestsPerMinute: 1 }] }))
      const reloaded = await hangUp('client keys reloaded')
      assert.deepEqual(reloaded?.clients, ['team-a'])
      assert.equal(await statusOf(teamB), 401)
      assert.equal(await statusOf(teamA), 200)
      assert.equal(await statusOf(teamA), 429)

      for (const [content, reason] of [['clients: [{name: team-a, keyHash: not-a-hash}]', /clients\[0\]\.keyHash/], ['clients: []', /clients must NOT have fewer than 1 items/]] as const) {
        await writeFile(file, content)
        const rejected = await hangUp('client keys not reloaded')
        assert.equal(rejected?.level, 50)
        assert.match(String(rejected?.msg), reason)
        assert.equal(await statusOf(teamB), 401, 'the previous list stays')
        assert.equal(await statusOf(teamA), 429, 'team-a is still known, and still limited')
      }
    } finally {
      await router.close()
      await upstream.close()
    }
  })
})
