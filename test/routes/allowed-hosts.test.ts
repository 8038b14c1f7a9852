import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { METRICS_AUTHORIZATION, METRICS_TOKEN_ENV, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { initializeMessage, MCP_HEADERS, type RunningRouter, startRouter } from '../support/router.js'

/** One request to the router on its loopback address, with whatever Host header a browser or a probe would send. */
async function withHost (
  router: RunningRouter,
  path: string,
  host: string,
  init: { method?: string, headers?: Record<string, string>, body?: string } = {}
): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...init.headers, host, ...(init.body !== undefined && { 'content-length': String(Buffer.byteLength(init.body)) }) }
    const sent = request(new URL(path, router.url), { method: init.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
    })
    sent.on('error', reject)
    sent.end(init.body)
  })
}

describe('ALLOWED_HOSTS on every route', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  const paths = ['/health', '/ready', '/metrics', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/no-such-route']

  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, {
      ALLOWED_HOSTS: 'mcp.example.com',
      CLIENT_KEYS_FILE: await writeClientsFile(),
      ...METRICS_TOKEN_ENV,
      PUBLIC_URL: 'https://mcp.example.com',
      OAUTH_ISSUER: 'https://issuer.example.com',
    })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  for (const path of paths) {
    test(`${path} refuses a foreign name (a DNS-rebinding page) with 403`, async () => {
      const answer = await withHost(router, path, 'rebind.attacker.example:8000', { headers: METRICS_AUTHORIZATION })
      assert.equal(answer.status, 403)
      assert.match((JSON.parse(answer.body) as { error: string }).error, /Host rebind\.attacker\.example:8000 is not allowed \(ALLOWED_HOSTS\)/)
    })
  }

  test('/mcp refuses it with a JSON-RPC error', async () => {
    const answer = await withHost(router, '/mcp', 'rebind.attacker.example', { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(initializeMessage) })
    assert.equal(answer.status, 403)
    assert.match((JSON.parse(answer.body) as { error: { message: string } }).error.message, /Host rebind\.attacker\.example is not allowed/)
  })

  for (const host of ['mcp.example.com', 'MCP.Example.com:443', '10.244.1.17:8000', '127.0.0.1', '[fd00::17]:8000', '[::1]']) {
    test(`a probe with Host ${host} (an allowed name, or an IP literal as the kubelet sends) is served`, async () => {
      assert.equal((await withHost(router, '/health', host)).status, 200)
      const ready = await withHost(router, '/ready', host)
      assert.notEqual(ready.status, 403, ready.body)
      assert.equal((await withHost(router, '/metrics', host, { headers: METRICS_AUTHORIZATION })).status, 200)
      assert.equal((await withHost(router, '/.well-known/oauth-protected-resource', host)).status, 200)
    })
  }

  test('a name that only ends like an IP literal is no IP literal', async () => {
    assert.equal((await withHost(router, '/health', '10.0.0.1.attacker.example')).status, 403)
    assert.equal((await withHost(router, '/health', '[fd00::17].attacker.example')).status, 403)
  })
})
