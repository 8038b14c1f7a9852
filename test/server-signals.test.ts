import assert from 'node:assert/strict'
import { once } from 'node:events'
import { execFile, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { stringify } from 'yaml'
import { TEAM_A_KEY, TEAM_B_KEY, bearer, sha256, writeClientsFile } from './support/client-keys.js'
import { FakeOpenAI } from './support/fake-openai.js'
import { LogCapture } from './support/logs.js'
import { connectClient, initializeMessage, MCP_HEADERS } from './support/router.js'
import { BUILT_ENTRY, type RouterProcess, spawnRouter, startRouterProcess, whenReady } from './support/router-process.js'
import { routedResult } from './support/routing.js'
import { waitFor } from './support/wait-for.js'

const run = promisify(execFile)

// Signals reach the entry point (close-with-grace and the reload listeners together) only in a
// process of its own: the built server, as npm start and the image run it.
interface LoggedRouter extends RouterProcess {
  logs: LogCapture
  /** Sends SIGHUP and waits for the next log line starting with each of `messages`. */
  hangUp: (...messages: string[]) => Promise<void>
}

async function startLoggedRouter (env: Record<string, string>): Promise<LoggedRouter> {
  const router = await startRouterProcess(env)
  const logs = new LogCapture()
  createInterface({ input: router.process.stdout! }).on('line', (line) => { if (line.startsWith('{')) logs.raw.push(line) })
  const count = (message: string) => logs.lines.filter((line) => String(line.msg).startsWith(message)).length
  return {
    ...router,
    logs,
    async hangUp (...messages) {
      const before = messages.map(count)
      router.process.kill('SIGHUP')
      const logged = () => messages.every((message, index) => count(message) > (before[index] ?? 0))
      await waitFor(() => logged() || router.process.exitCode !== null, messages.join(' and '), 15_000)
      assert.equal(router.process.exitCode, null, 'SIGHUP ended the process')
    },
  }
}

async function initializeStatus (port: number, key: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` },
    body: JSON.stringify(initializeMessage),
  })
  await response.body?.cancel()
  return response.status
}

describe('SIGHUP on the running server', () => {
  describe('with a routing file and a clients file', () => {
    const upstreams: Record<string, FakeOpenAI> = {}
    let dir: string
    let routingFile: string
    let clientsFile: string
    const writeRouting = async (fast: string) => writeFile(routingFile, stringify({
      providers: Object.entries(upstreams).map(([name, upstream]) => ({ name, baseURL: upstream.baseURL, apiKeyEnv: 'ROUTED_TEST_KEY' })),
      aliases: { fast },
    }))

    before(async () => {
      upstreams.a = await FakeOpenAI.start()
      upstreams.b = await FakeOpenAI.start()
      dir = await mkdtemp(join(tmpdir(), 'router-signals-'))
      routingFile = join(dir, 'routing.yaml')
      clientsFile = await writeClientsFile()
      await writeRouting('a/gpt-4.1-mini')
    })
    after(async () => {
      await Promise.all(Object.values(upstreams).map(async (upstream) => upstream.close()))
      await rm(dir, { recursive: true, force: true })
    })

    test('reloads both files, keeps serving, and keeps the previous ones when the new ones are invalid', async () => {
      const router = await startLoggedRouter({ ROUTER_CONFIG: routingFile, CLIENT_KEYS_FILE: clientsFile, ROUTED_TEST_KEY: 'sk-routed-test' })
      const client = await connectClient({ mcpUrl: new URL(`http://127.0.0.1:${router.port}/mcp`) }, bearer(TEAM_A_KEY))
      const fastProvider = async () => routedResult(await client.callTool({ name: 'chat', arguments: { model: 'fast', prompt: 'hi' } })).provider
      try {
        assert.equal(await fastProvider(), 'a')
        assert.equal(await initializeStatus(router.port, TEAM_B_KEY), 200)

        await writeRouting('b/gpt-4.1-mini')
        await writeFile(clientsFile, JSON.stringify({ clients: [{ name: 'team-a', keyHash: sha256(TEAM_A_KEY) }] }))
        await router.hangUp('routing configuration reloaded', 'client keys reloaded')
        assert.equal(await fastProvider(), 'b', 'the new routing applies')
        assert.equal(await initializeStatus(router.port, TEAM_B_KEY), 401, 'the new client keys apply')

        await writeFile(routingFile, 'providers:\n  - name: a\n    baseURL: not-a-url\n')
        await writeFile(clientsFile, 'clients: []')
        await router.hangUp('routing configuration not reloaded', 'client keys not reloaded')
        assert.equal(await fastProvider(), 'b', 'the previous routing stays')
        assert.equal(await initializeStatus(router.port, TEAM_B_KEY), 401, 'the previous client keys stay')

        assert.equal(router.process.exitCode, null)
        assert.deepEqual(router.logs.lines.filter((line) => /shutting down/.test(String(line.msg))), [])
      } finally {
        await client.close()
        await router.kill()
      }
    })
    test('PID_FILE: `mcp-openai-router reload` sends SIGHUP to that router only; a second router cannot take the file; it is removed at exit', async () => {
      const pidFile = join(dir, 'router.pid')
      await writeRouting('a/gpt-4.1-mini')
      const env = { ROUTER_CONFIG: routingFile, ROUTED_TEST_KEY: 'sk-routed-test' }
      const reload = async () => run(process.execPath, [BUILT_ENTRY, 'reload'], { env: { PATH: process.env.PATH, PID_FILE: pidFile } })
        .then(
          ({ stdout }) => ({ code: 0, output: stdout }),
          (err: { code: number, stderr: string }) => ({ code: err.code, output: err.stderr })
        )
      const signalled = await startLoggedRouter({ ...env, PID_FILE: pidFile })
      const other = await startLoggedRouter(env)
      const reloads = (router: LoggedRouter) => router.logs.lines.filter((line) => line.msg === 'routing configuration reloaded').length
      try {
        assert.equal((await readFile(pidFile, 'utf8')).trim(), String(signalled.process.pid))
        assert.deepEqual(await reload(), { code: 0, output: `mcp-openai-router: sent SIGHUP to process ${signalled.process.pid}\n` })
        await waitFor(() => reloads(signalled) === 1, 'the router named by PID_FILE to reload', 15_000)
        // The other router would have had the same signal at the same moment; a health answer after
        // it shows it had none.
        assert.equal((await fetch(`http://127.0.0.1:${other.port}/health`)).status, 200)
        assert.equal(reloads(other), 0, 'the other router was not signalled')

        const second = spawnRouter({ ...env, PID_FILE: pidFile, PORT: '0', HOST: '127.0.0.1' })
        let stderr = ''
        second.stderr?.on('data', (chunk: Buffer) => { stderr += chunk })
        const [code] = await once(second, 'exit')
        assert.equal(code, 1)
        assert.equal(stderr, `mcp-openai-router: PID_FILE ${pidFile} names process ${signalled.process.pid}, which is running: another router uses this PID_FILE; give each its own\n`)

        const exited = once(signalled.process, 'exit')
        signalled.process.kill('SIGTERM')
        assert.deepEqual(await exited, [0, null])
        await assert.rejects(readFile(pidFile), { code: 'ENOENT' }, 'removed at exit')
        assert.deepEqual(await reload(), { code: 1, output: `mcp-openai-router: no router has written PID_FILE ${pidFile}: is it running with this PID_FILE?\n` })
      } finally {
        await signalled.kill()
        await other.kill()
      }
    })
  })

  test('PID_FILE naming a process that is no router (its id reused after a crash): reload refuses to signal it, and a router starting replaces the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'router-pid-'))
    const pidFile = join(dir, 'router.pid')
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' })
    const upstream = await FakeOpenAI.start()
    try {
      await writeFile(pidFile, `${unrelated.pid}\n`)
      const refused = await run(process.execPath, [BUILT_ENTRY, 'reload'], { env: { PATH: process.env.PATH, PID_FILE: pidFile } }).then(() => undefined, (err: { code: number, stderr: string }) => err)
      assert.equal(refused?.code, 1)
      assert.equal(refused?.stderr, `mcp-openai-router: process ${unrelated.pid} (PID_FILE ${pidFile}) is not a running router: the router was stopped without removing its PID_FILE\n`)
      assert.equal(unrelated.exitCode ?? unrelated.signalCode, null, 'the unrelated process got no signal')

      const router = await startRouterProcess({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseURL, PID_FILE: pidFile })
      try {
        assert.equal((await readFile(pidFile, 'utf8')).trim(), String(router.process.pid))
      } finally {
        await router.kill()
      }
    } finally {
      unrelated.kill('SIGKILL')
      await upstream.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('with nothing to reload it is ignored with a log line, and SIGTERM still shuts down', async () => {
    const upstream = await FakeOpenAI.start()
    const router = await startLoggedRouter({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseURL })
    try {
      await router.hangUp('SIGHUP ignored: nothing to reload')
      await router.hangUp('SIGHUP ignored: nothing to reload')
      const health = await fetch(`http://127.0.0.1:${router.port}/health`)
      assert.equal(health.status, 200)
      const [ignored] = router.logs.find({ signal: 'SIGHUP' })
      assert.equal(ignored?.level, 30, 'info, not a warning')

      const exited = once(router.process, 'exit')
      router.process.kill('SIGTERM')
      assert.deepEqual(await exited, [0, null])
      assert.equal(router.logs.find({ signal: 'SIGTERM', msg: 'shutting down: finishing in-flight calls' }).length, 1)
    } finally {
      await router.kill()
      await upstream.close()
    }
  })

  test('a SIGHUP that arrives while the router is still starting does not end it', async () => {
    // A downstream MCP server that takes the connection and never answers holds start-up for its timeoutMs.
    let connecting!: () => void
    const reached = new Promise<void>((resolve) => { connecting = resolve })
    const silent = createServer(() => connecting())
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    const upstream = await FakeOpenAI.start()
    const downstream = [{ name: 'silent', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp`, timeoutMs: 3000 }]
    const child = spawnRouter({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.baseURL, PORT: '0', HOST: '127.0.0.1', DOWNSTREAM_MCP: JSON.stringify(downstream) })
    try {
      await reached
      child.kill('SIGHUP')
      const started = await whenReady(child, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, 'the router to listen after the SIGHUP')
      assert.equal(child.exitCode, null)
      assert.equal((await fetch(`http://127.0.0.1:${started.ready[1]}/health`)).status, 200)
    } finally {
      child.kill('SIGKILL')
      silent.closeAllConnections()
      silent.close()
      await upstream.close()
    }
  })
})
