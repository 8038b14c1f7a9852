import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import pkg from '../package.json' with { type: 'json' }
import { FakeOpenAI } from './support/fake-openai.js'
import { textOf } from './support/results.js'
import { buildIfStale } from './support/router-process.js'
import { waitFor } from './support/wait-for.js'

const run = promisify(execFile)
const isRunning = (pid: number) => { try { return process.kill(pid, 0) } catch { return false } }
const MODERN = '2026-07-28'
const TOOL_NAMES = 'chat, get_response, cancel_response, embed, generate_image, list_models, echo'
/**
 * Installing the tarball's dependencies from npm's cache (or the registry): seconds here, bounded
 * generously for a loaded machine.
 */
const INSTALL_TIMEOUT_MS = 240_000

/**
 * The package as a user gets it: `npm pack` of this clone, installed from the tarball into an
 * empty folder, and its `mcp-openai-router` command started by the SDK's stdio client the way
 * Claude Desktop, Cursor or VS Code start it.
 */
describe('the packed mcp-openai-router command', { timeout: INSTALL_TIMEOUT_MS + 120_000 }, () => {
  let folder: string
  let command: string
  let upstream: FakeOpenAI

  before(async () => {
    const npm = process.env.npm_execpath
    assert.ok(npm, 'the tests run under npm (npm test, npm exec)')
    // prepack builds; the test builds only when the sources changed, then packs what is built.
    buildIfStale()
    folder = await mkdtemp(join(tmpdir(), 'router-packed-'))
    await run(process.execPath, [npm, 'pack', '--ignore-scripts', '--pack-destination', folder], { timeout: 60_000 })
    const [tarball] = (await readdir(folder)).filter((name) => name.endsWith('.tgz'))
    assert.equal(tarball, `${pkg.name}-${pkg.version}.tgz`)
    const app = join(folder, 'app')
    await run('mkdir', [app])
    await writeFile(join(app, 'package.json'), '{"private": true}\n')
    await run(process.execPath, [npm, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(folder, tarball)], { cwd: app, timeout: INSTALL_TIMEOUT_MS })
    command = join(app, 'node_modules', '.bin', 'mcp-openai-router')
    upstream = await FakeOpenAI.start()
  })
  after(async () => {
    await upstream?.close()
    await rm(folder, { recursive: true, force: true })
  })

  test('--version prints the version, --help the usage with --stdio; an unknown option exits 2 with one line', async () => {
    assert.deepEqual(pkg.bin, { 'mcp-openai-router': 'dist/src/server.js' })
    assert.equal((await run(command, ['--version'])).stdout, `${pkg.version}\n`)
    const { stdout } = await run(command, ['--help'])
    assert.match(stdout, /^Usage: mcp-openai-router \[--stdio \| reload\]\n/)
    assert.match(stdout, /--stdio +serve MCP over standard input and output/)
    const refused = await run(command, ['--sdtio']).then(() => undefined, (err: { code: number, stderr: string }) => err)
    assert.equal(refused?.code, 2)
    assert.equal(refused?.stderr, 'mcp-openai-router: unknown option --sdtio (see mcp-openai-router --help)\n')
  })

  /** The installed command over stdio, as a client starts it: its environment only, logs on stderr. */
  async function connect (client: Client): Promise<{ transport: StdioClientTransport, stderr: () => string }> {
    const transport = new StdioClientTransport({
      command,
      args: ['--stdio'],
      env: { PATH: process.env.PATH ?? '', OPENAI_API_KEY: 'sk-stdio-test', OPENAI_BASE_URL: upstream.baseURL, PROGRESS_INTERVAL_MS: '0' },
      stderr: 'pipe',
    })
    let stderr = ''
    transport.stderr?.on('data', (chunk: Buffer) => { stderr += chunk })
    // stdout is the protocol: a log line there would reach the client as a message it cannot parse.
    const unparsable: Error[] = []
    client.onerror = (err) => {
      // The SDK client dispatches a notification a microtask later but a response at once: progress
      // read in the same chunk as its call's result (the router sent it before) finds its token gone.
      if (!err.message.startsWith('Received a progress notification for an unknown token')) unparsable.push(err)
    }
    await client.connect(transport)
    return { transport, stderr: () => { assert.deepEqual(unparsable, []); return stderr } }
  }

  for (const [era, options] of [['2025', {}], [MODERN, { versionNegotiation: { mode: { pin: MODERN } } }]] as const) {
    test(`--stdio, ${era} era: lists the tools, echoes, streams a chat as progress, logs on stderr, and exits when the client closes stdin`, async () => {
      upstream.reset()
      const client = new Client({ name: 'stdio-test', version: '1.0.0' }, options)
      const { transport, stderr } = await connect(client)
      try {
        const negotiated = client.getNegotiatedProtocolVersion() ?? ''
        assert.ok(era === MODERN ? negotiated === MODERN : negotiated.startsWith('2025-'), negotiated)
        const { tools } = await client.listTools()
        assert.equal(tools.map((tool) => tool.name).join(', '), TOOL_NAMES)
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over stdio' } })), 'over stdio')

        // Paced, so that its progress reaches the client in chunks of their own before the result
        // even on a loaded machine (see onerror above).
        upstream.script('POST /v1/responses', { json: upstream.responseBody('gpt-4.1-mini', 'echo: stream this answer over stdio'), eventDelayMs: 50 })
        const progress: string[] = []
        const result = await client.callTool({ name: 'chat', arguments: { prompt: 'stream this answer over stdio' } }, { onprogress: ({ message }) => { if (message) progress.push(message) } })
        assert.equal(textOf(result), 'echo: stream this answer over stdio')
        assert.ok(progress.length >= 2, `streamed in pieces: ${JSON.stringify(progress)}`)
        const [request] = upstream.received('POST /v1/responses')
        assert.equal(request?.headers.authorization, 'Bearer sk-stdio-test')
        assert.equal(request?.body.stream, true)

        const { pid } = transport
        assert.ok(pid)
        await client.close()
        // It ends on stdin closing (the client's SIGTERM comes only 2 s later); its last lines may
        // still be in the pipe when it has exited.
        await waitFor(() => !isRunning(pid) && /"msg":"shutting down: the stdio client closed the connection"/.test(stderr()), 'the router process to exit, saying why', 30_000)
        const logs = stderr()
        assert.match(logs, /"msg":"serving MCP over stdio"/)
        // One request id per call, over stdio too: the chat's log line names the id its upstream request carried.
        const chatLine = logs.split('\n').find((line) => line.includes('"msg":"tools/call chat: ok"'))
        assert.ok(chatLine, logs)
        const sentId = request?.headers['x-client-request-id']
        assert.match(String(sentId), /^[\da-f]{8}-[\da-f]{4}-/)
        assert.equal(JSON.parse(chatLine).reqId, sentId)
        assert.doesNotMatch(logs, /anyone who reaches \/mcp/, 'no HTTP warning for a stdio router')
      } finally {
        await client.close()
      }
    })
  }

  test('--stdio against a server without the Responses API: the log says so at start, naming UPSTREAM_API, with no /ready to ask', async () => {
    upstream.reset()
    upstream.missingRoutes.add('POST /v1/responses')
    const client = new Client({ name: 'stdio-test', version: '1.0.0' })
    const { stderr } = await connect(client)
    try {
      await waitFor(() => /has no Responses API/.test(stderr()), 'the start-up check to log the missing API', 30_000)
      const [line] = stderr().split('\n').filter((candidate) => candidate.includes('has no Responses API'))
      assert.match(line ?? '', /"level":40,.*set the router's UPSTREAM_API to chat_completions/)
    } finally {
      await client.close()
    }
  })

  test('--stdio: SIGTERM closes once, with exit code 0', async () => {
    const child = spawn(command, ['--stdio'], { env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: upstream.baseURL }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk })
    const exited = once(child, 'exit')
    try {
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) + '\n')
      await waitFor(() => stdout.includes('"id":1'), 'the initialize answer', 30_000)
      child.kill('SIGTERM')
      assert.deepEqual(await exited, [0, null])
      assert.equal(stderr.split('\n').filter((line) => line.includes('shutting down')).length, 1, stderr)
    } finally {
      child.kill('SIGKILL')
    }
  })

  test('--stdio: a bad setting stops start-up with one line on stderr and nothing on stdout', async () => {
    const refused = await run(command, ['--stdio'], { env: { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-x', UPSTREAM_API: 'soap' } }).then(() => undefined, (err: { code: number, stdout: string, stderr: string }) => err)
    assert.equal(refused?.code, 1)
    assert.equal(refused?.stdout, '')
    assert.equal(refused?.stderr, 'mcp-openai-router: Invalid configuration: UPSTREAM_API must be one of: responses, chat_completions\n')
  })
})
