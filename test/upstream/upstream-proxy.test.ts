import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { FakeOpenAI } from '../support/fake-openai.js'
import { textOf } from '../support/results.js'
import { connectClient } from '../support/router.js'
import { startRouterProcess } from '../support/router-process.js'

/** A forward proxy as egress proxies are: HTTP CONNECT tunnels, each target recorded. */
async function startConnectProxy (): Promise<{ server: Server, url: string, tunnels: string[] }> {
  const tunnels: string[] = []
  const server = createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '')
    const [host = '', port = ''] = (req.url ?? '').split(':')
    const target = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      target.write(head)
      target.pipe(client).pipe(target)
    })
    target.on('error', () => client.destroy())
    client.on('error', () => target.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tunnels }
}

describe('upstream calls through an egress proxy (NODE_USE_ENV_PROXY, as Node\'s fetch)', () => {
  let upstream: FakeOpenAI
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>

  before(async () => {
    upstream = await FakeOpenAI.start()
    proxy = await startConnectProxy()
  })
  after(async () => {
    proxy.server.closeAllConnections()
    proxy.server.close()
    await upstream.close()
  })

  const chatThrough = async (env: Record<string, string>) => {
    const router = await startRouterProcess({ OPENAI_API_KEY: 'sk-proxy-test', OPENAI_BASE_URL: upstream.baseURL, READY_CHECK_UPSTREAM: 'false', HTTP_PROXY: proxy.url, ...env })
    try {
      const client = await connectClient({ mcpUrl: new URL(`http://127.0.0.1:${router.port}/mcp`) })
      const answer = textOf(await client.callTool({ name: 'chat', arguments: { prompt: 'via the proxy?' } }))
      await client.close()
      return answer
    } finally {
      await router.kill()
    }
  }

  test('with NODE_USE_ENV_PROXY=1 the call tunnels through HTTP_PROXY', async () => {
    proxy.tunnels.length = 0
    assert.equal(await chatThrough({ NODE_USE_ENV_PROXY: '1' }), 'echo: via the proxy?')
    assert.deepEqual(proxy.tunnels, [new URL(upstream.baseURL).host])
  })

  test('without it HTTP_PROXY is ignored, as Node ignores it', async () => {
    proxy.tunnels.length = 0
    assert.equal(await chatThrough({}), 'echo: via the proxy?')
    assert.deepEqual(proxy.tunnels, [])
  })

  test('NO_PROXY exempts a host', async () => {
    proxy.tunnels.length = 0
    assert.equal(await chatThrough({ NODE_USE_ENV_PROXY: '1', NO_PROXY: '127.0.0.1' }), 'echo: via the proxy?')
    assert.deepEqual(proxy.tunnels, [])
  })
})
