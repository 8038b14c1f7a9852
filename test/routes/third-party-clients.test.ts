import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { createMCPClient } from '@ai-sdk/mcp'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { bearer, METRICS_TOKEN_ENV, TEAM_B_KEY, writeClientsFile } from '../support/client-keys.js'
import { FakeOpenAI } from '../support/fake-openai.js'
import { LogCapture } from '../support/logs.js'
import { textOf } from '../support/results.js'
import { type RunningRouter, startRouter } from '../support/router.js'

const packageDir = (name: string) => join(createRequire(import.meta.url).resolve(`${name}/package.json`), '..')
const inspectorCli = join(packageDir('@modelcontextprotocol/inspector'), 'clients', 'launcher', 'build', 'index.js')
const mcpRemote = join(packageDir('mcp-remote'), 'dist', 'proxy.js')

for (const mode of ['stateless', 'stateful'] as const) {
  describe(`the Vercel AI SDK's MCP client (@ai-sdk/mcp, MCP_SESSIONS=${mode})`, () => {
    let upstream: FakeOpenAI
    let router: RunningRouter
    const logs = new LogCapture()
    let startUpLines = 0
    before(async () => {
      upstream = await FakeOpenAI.start()
      router = await startRouter(upstream, { MCP_SESSIONS: mode, LOG_LEVEL: 'debug', CLIENT_KEYS_FILE: await writeClientsFile(), ...METRICS_TOKEN_ENV }, { logs })
      startUpLines = logs.raw.length
    })
    after(async () => {
      await router.close()
      await upstream.close()
    })

    test('probes with server/discover, speaks 2026-07-28, lists the tools and runs echo and chat without a warning', async () => {
      const client = await createMCPClient({ transport: { type: 'http', url: router.mcpUrl.href, ...bearer(TEAM_B_KEY) } })
      try {
        const tools = await client.tools()
        assert.ok(['chat', 'echo', 'get_response'].every((name) => name in tools))
        const options = { toolCallId: 'call-1', messages: [], context: {} }
        const echoed = await tools.echo!.execute({ text: 'hello' }, options) as { content: Array<{ text: string }> }
        assert.equal(echoed.content[0]?.text, 'hello')
        const answered = await tools.chat!.execute({ prompt: 'hi' }, options) as { content: Array<{ text: string }> }
        assert.equal(answered.content[0]?.text, 'echo: hi')
      } finally {
        await client.close()
      }
      const lines = logs.lines.slice(startUpLines)
      assert.equal(lines.filter((line) => line.rpcMethod === 'server/discover' && line.outcome === 'ok').length, 1)
      assert.equal(lines.filter((line) => line.rpcMethod === 'initialize').length, 0, 'no 2025 handshake')
      assert.equal(lines.filter((line) => line.rpcMethod === 'tools/call' && line.outcome === 'ok').length, 2)
      assert.deepEqual(lines.filter((line) => line.level >= 40), [])
    })
  })
}

describe('clients driven as their users run them', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  const logs = new LogCapture()
  before(async () => {
    upstream = await FakeOpenAI.start()
    router = await startRouter(upstream, { LOG_LEVEL: 'debug', CLIENT_KEYS_FILE: await writeClientsFile(), ...METRICS_TOKEN_ENV }, { logs })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  /** The MCP methods the router logged since line `from`: which era a client spoke. */
  const methodsSince = (from: number) => logs.lines.slice(from)
    .map((line) => line.rpcMethod)
    .filter((method) => method !== undefined)

  test('the MCP Inspector CLI (2025 era) lists the tools and calls echo', async () => {
    const from = logs.raw.length
    const inspect = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, [inspectorCli, '--cli', router.mcpUrl.href, '--transport', 'http', '--header', `Authorization: Bearer ${TEAM_B_KEY}`, ...args], { timeout: 60_000 })
      return JSON.parse(stdout) as Record<string, unknown>
    }
    const { tools } = await inspect('--method', 'tools/list') as { tools: Array<{ name: string }> }
    assert.ok(tools.some((tool) => tool.name === 'chat'))
    assert.equal(textOf(await inspect('--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=inspected')), 'inspected')
    assert.deepEqual(logs.lines.filter((line) => line.level >= 40 && line.reqId !== undefined), [])
    assert.ok(methodsSince(from).includes('initialize'))
  })

  test('mcp-remote over stdio (2025 era), as Claude Desktop runs it, lists the tools and calls echo', async () => {
    const from = logs.raw.length
    const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' })
    await client.connect(new StdioClientTransport({
      command: process.execPath,
      args: [mcpRemote, router.mcpUrl.href, '--transport', 'http-only', '--header', `Authorization: Bearer ${TEAM_B_KEY}`],
      stderr: 'ignore',
    }))
    try {
      const { tools } = await client.listTools()
      assert.ok(tools.some((tool) => tool.name === 'chat'))
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'remote' } })), 'remote')
    } finally {
      await client.close()
    }
    assert.ok(methodsSince(from).includes('initialize'))
    assert.ok(!methodsSince(from).includes('server/discover'))
  })
})
