import assert from 'node:assert/strict'
import { once } from 'node:events'
import { get } from 'node:http'
import { connect, type Socket } from 'node:net'
import { spawn } from 'node:child_process'
import { describe, test } from 'node:test'
import { FakeOpenAI } from '../support/fake-openai.js'
import { connectClient, type RunningRouter, startRouter } from '../support/router.js'
import { BUILT_ENTRY, buildIfStale, whenReady } from '../support/router-process.js'
import { waitFor } from '../support/wait-for.js'

const STALLED_REQUEST = 'POST /mcp HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'

interface StalledSocket {
  socket: Socket
  closed: boolean
}

/** A connection that sends `request` (headers promising a body) and then nothing more. */
async function stall (router: RunningRouter, request = STALLED_REQUEST): Promise<StalledSocket> {
  const { port } = new URL(router.url)
  const socket = connect({ host: '127.0.0.1', port: Number(port) })
  const stalled = { socket, closed: false }
  socket.on('error', () => {})
  // Read (and drop) what the router answers, or its closing would never be seen.
  socket.resume()
  socket.once('close', () => { stalled.closed = true })
  socket.setTimeout(30_000, () => socket.destroy())
  await once(socket, 'connect')
  socket.write(request)
  return stalled
}

/** GET /health from another loopback address than the flood's (the kubelet's, a monitor's). */
async function healthFrom (router: RunningRouter, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(`${router.url}/health`, { localAddress, agent: false, timeout: 5000 }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.once('timeout', () => request.destroy(new Error('/health did not answer within 5 s')))
    request.once('error', reject)
  })
}

async function withRouter (
  env: Record<string, string>,
  run: (router: RunningRouter, upstream: FakeOpenAI) => Promise<void>
): Promise<void> {
  const upstream = await FakeOpenAI.start()
  const router = await startRouter(upstream, env)
  try {
    await run(router, upstream)
  } finally {
    await router.close()
    await upstream.close()
  }
}

describe('connection limits', () => {
  test('a request whose body never comes is closed after REQUEST_TIMEOUT_MS, headers that never end after HEADERS_TIMEOUT_MS', async () => {
    await withRouter({ REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' }, async (router) => {
      const noBody = await stall(router)
      const unfinishedHeaders = await stall(router, 'POST /mcp HTTP/1.1\r\nHost: router\r\n')
      await waitFor(() => noBody.closed && unfinishedHeaders.closed, 'the router to close both stalled connections', 10_000)
    })
  })

  test('a flood of stalled connections from one address is held off: /health answers throughout, the flood goes after the timeout', async () => {
    const limit = 50
    await withRouter({ REQUEST_TIMEOUT_MS: '3000', HEADERS_TIMEOUT_MS: '1000', MAX_CONNECTIONS_PER_ADDRESS: String(limit) }, async (router) => {
      const flood = await Promise.all(Array.from({ length: 300 }, async () => stall(router)))
      // Past the limit the router closes each new connection at once.
      await waitFor(() => flood.filter((stalled) => !stalled.closed).length <= limit, `at most ${limit} stalled connections to stay open`, 10_000)
      assert.equal(await healthFrom(router, '127.0.0.2'), 200)
      await waitFor(() => flood.every((stalled) => stalled.closed), 'the held connections to time out', 15_000)
      assert.equal(await healthFrom(router, '127.0.0.1'), 200, 'the flood\'s own address is served again')
    })
  })

  test('past MAX_CONNECTIONS new connections are closed as they arrive', async () => {
    await withRouter({ MAX_CONNECTIONS: '20' }, async (router) => {
      const flood = await Promise.all(Array.from({ length: 60 }, async () => stall(router)))
      await waitFor(() => flood.filter((stalled) => stalled.closed).length >= 40, 'the connections past the limit to be closed', 10_000)
      assert.equal(flood.filter((stalled) => !stalled.closed).length, 20)
      for (const { socket } of flood) socket.destroy()
    })
  })

  test('a streamed answer may last longer than REQUEST_TIMEOUT_MS: only receiving the request is timed', async () => {
    await withRouter({ REQUEST_TIMEOUT_MS: '1000', HEADERS_TIMEOUT_MS: '1000', MCP_SESSIONS: 'stateful' }, async (router, upstream) => {
      const client = await connectClient(router)
      try {
        upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'a slow streamed answer'), eventDelayMs: 300 })
        const started = Date.now()
        const progress: unknown[] = []
        const result = await client.callTool({ name: 'chat', arguments: { prompt: 'a slow streamed answer' } }, undefined, { onprogress: (update) => progress.push(update), timeout: 30_000 })
        assert.equal(result.isError, undefined, JSON.stringify(result))
        assert.ok(Date.now() - started > 2000, 'the answer took longer than the request timeout')
        assert.ok(progress.length > 0, 'it was streamed')
      } finally {
        await client.close()
      }
    })
  })

  test('MAX_CONNECTIONS above the open-file limit is lowered below it, so a flood meets the cap before it exhausts descriptors', async () => {
    buildIfStale()
    const upstream = await FakeOpenAI.start()
    // The built server under a low open-file limit, as a small container or a default shell would give it.
    const child = spawn('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" ${BUILT_ENTRY}`], {
      env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseURL, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', REQUEST_TIMEOUT_MS: '30000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk })
    const flood: StalledSocket[] = []
    try {
      const started = await whenReady(child, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, 'the router to listen')
      assert.match(output, /MAX_CONNECTIONS lowered to 192/)
      const router = { url: `http://127.0.0.1:${started.ready[1]}` } as RunningRouter
      for (let socket = 0; socket < 300; socket++) flood.push(await stall(router))
      await waitFor(() => flood.filter((stalled) => !stalled.closed).length <= 192, 'the connections past the cap to be closed')
      assert.equal(child.exitCode, null)
      for (const stalled of flood) stalled.socket.destroy()
      await waitFor(() => flood.every((stalled) => stalled.closed), 'the flood to end')
      assert.equal(await healthFrom(router, '127.0.0.1'), 200, 'descriptors were left for the router to go on serving')
      assert.doesNotMatch(output, /EMFILE/)
    } finally {
      for (const stalled of flood) stalled.socket.destroy()
      child.kill('SIGKILL')
      await upstream.close()
    }
  })
})
