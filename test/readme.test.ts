import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { AIMessage, type BaseMessage, ToolMessage } from '@langchain/core/messages'
import type { ChatResult } from '@langchain/core/outputs'
import { FakeChatModel } from '@langchain/core/utils/testing'
import { MultiServerMCPClient } from '@langchain/mcp-adapters'
import { Agent, MCPServerStreamableHttp, run as runAgent, setDefaultOpenAIClient, setTracingDisabled } from '@openai/agents'
import OpenAI from 'openai'
import lock from '../package-lock.json' with { type: 'json' }
import pkg from '../package.json' with { type: 'json' }
import { ConfigSchema } from '../src/config.js'
import { PLACEHOLDER_API_KEY } from '../src/routing/routing-config.js'
import { ClientHome, CodexAppServer } from './support/client-clis.js'
import { sha256 } from './support/client-keys.js'
import { FakeOpenAI } from './support/fake-openai.js'
import { connectClient, postMcp, initializeMessage, type RunningRouter, startRouter } from './support/router.js'

const DOCS = ['README.md', 'docs/configuration.md', 'docs/operations.md', 'docs/performance.md']
const TOOL_NAMES = 'chat, get_response, cancel_response, embed, generate_image, list_models, echo'
/** Where `npm start` listens: the snippets' URL, as a reader copies it. */
const NPM_START_MCP_URL = `http://localhost:${ConfigSchema.properties.PORT.default}/mcp`
/** The key the snippets stand for, as the router under test knows it. */
const CLIENT_KEY = 'mor_docs-snippet-key-0123456789'

const run = promisify(execFile)

/** The version of a client package the tests install and drive (package-lock.json). */
function devVersion (name: string): string {
  const entry = (lock.packages as Record<string, { version?: string }>)[`node_modules/${name}`]
  assert.ok(entry?.version, `package-lock.json installs ${name}`)
  return entry.version
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

function restoreEnv (name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

/**
 * A chat model (LangChain's fake, for tests) that calls the router's `echo` once, then answers
 * with what the tool returned: the LangGraph agent loop with every step but the model real.
 */
class EchoOnceModel extends FakeChatModel {
  override bindTools (): this {
    return this
  }

  override async _generate (messages: BaseMessage[]): Promise<ChatResult> {
    const last = messages.at(-1)
    const message = last && ToolMessage.isInstance(last)
      ? new AIMessage(`The router said: ${String(last.content)}`)
      : new AIMessage({ content: '', tool_calls: [{ id: 'call_1', name: 'echo', args: { text: 'ping' } }] })
    return { generations: [{ text: String(message.content), message }] }
  }
}
const readText = (path: string) => readFile(path, 'utf8')

/** The README shows the file exactly, in a fenced block of that language. */
async function assertEmbedded (readme: string, path: string, language: string): Promise<string> {
  const text = await readText(path)
  assert.ok(readme.includes('```' + language + '\n' + text + '```'), `README embeds ${path} verbatim`)
  return text
}

/** Shell commands of a snippet, continuation lines joined. */
const commandsOf = (script: string) => script.replaceAll('\\\n', ' ').split('\n').filter((line) => line.trim() !== '')

/** `Name: value` (or `Name:value`, as mcp-remote takes it) as a header. */
function header (line: string): Record<string, string> {
  const colon = line.indexOf(':')
  return { [line.slice(0, colon).trim()]: line.slice(colon + 1).trim() }
}

describe('README', () => {
  let upstream: FakeOpenAI
  let router: RunningRouter
  let readme: string

  before(async () => {
    readme = await readText('README.md')
    upstream = await FakeOpenAI.start()
    // Keys on: a snippet whose header is wrong cannot connect.
    router = await startRouter(upstream, { CLIENT_KEYS: `docs:${sha256(CLIENT_KEY)}` })
  })
  after(async () => {
    await router.close()
    await upstream.close()
  })

  /** The snippet's URL is `npm start`'s; aimed at the test's router, it lists the tools with the snippet's headers. */
  async function assertReaches (url: string, headers: Record<string, string>): Promise<void> {
    assert.equal(url, NPM_START_MCP_URL, 'the snippet uses the URL of npm start')
    const client = await connectClient({ mcpUrl: new URL(router.mcpUrl.href) }, { headers })
    try {
      const { tools } = await client.listTools()
      assert.equal(tools.map((tool) => tool.name).join(', '), TOOL_NAMES)
    } finally {
      await client.close()
    }
  }

  /**
   * A TypeScript example the README embeds verbatim, defaulting to npm start's URL, run against the
   * test's router with the key: its output.
   */
  async function runEmbeddedExample (path: string, env: Record<string, string> = {}): Promise<string> {
    const example = await assertEmbedded(readme, path, 'ts')
    assert.ok(example.includes(`'${NPM_START_MCP_URL}'`), 'the example defaults to npm start\'s URL')
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path], {
      env: { ...process.env, ROUTER_URL: router.mcpUrl.href, ROUTER_CLIENT_KEY: CLIENT_KEY, ...env },
      timeout: 30_000,
    })
    return stdout
  }

  test('Set-up says what npm ci prints on a Node older than the engines package.json asks for', async () => {
    const minimum = /^>=(\d+)$/.exec(pkg.engines.node)?.[1]
    assert.ok(minimum, 'engines.node is a lower bound')
    assert.ok(readme.includes(`Needs Node.js ≥ ${minimum}`))
    assert.ok(readme.includes(`\`npm ci\` prints \`npm warn EBADENGINE\` blocks for the packages (the project\namong them) that ask for Node ≥ ${minimum}`))
  })

  test('the router of these tests refuses a client without the key, so a snippet passes only with its header', async () => {
    assert.equal((await postMcp(router, initializeMessage)).status, 401)
  })

  test('shows the client example exactly as examples/client.ts, and that example works with npm start\'s URL and a key', async () => {
    const stdout = await runEmbeddedExample('examples/client.ts')
    assert.equal(stdout, `tools: ${TOOL_NAMES}\nanswer: echo: Say hello in one word.\n`)
  })

  test('Claude Desktop: mcp-remote with the header built from its env', async () => {
    const config = JSON.parse(await assertEmbedded(readme, 'examples/clients/claude-desktop.json', 'json'))
    const server = config.mcpServers['openai-router']
    assert.equal(server.command, 'npx')
    const args: string[] = server.args
    assert.ok(args.includes('mcp-remote'))
    const url = args.find((arg) => arg.startsWith('http'))
    assert.ok(url)
    const headerArgument = args[args.indexOf('--header') + 1]
    assert.ok(headerArgument && !headerArgument.includes(' '), 'one argument, without spaces')
    const expanded = headerArgument.replace(/\$\{(\w+)\}/g, (_, name: string) => server.env[name].replace('YOUR_CLIENT_KEY', CLIENT_KEY))
    await assertReaches(url, header(expanded))
  })

  /**
   * A stdio snippet runs the package's command with `--stdio` through npx, with the OpenAI key in
   * its env; test/packaged-cli.test.ts starts the packed, installed command with those arguments.
   */
  function assertStartsStdio (server: { command: string, args: string[], env: Record<string, string> }): void {
    assert.equal(server.command, 'npx')
    assert.deepEqual(server.args, ['-y', pkg.name, '--stdio'])
    assert.ok(pkg.name in pkg.bin, 'npx runs the command named like the package')
    assert.deepEqual(Object.keys(server.env), ['OPENAI_API_KEY'])
  }

  test('the tarball the stdio section names is the one npm pack writes for this version', () => {
    const named = [...readme.matchAll(/mcp-openai-router-(\d[\w.-]*)\.tgz/g)].map((match) => match[1])
    assert.ok(named.length > 0)
    assert.deepEqual([...new Set(named)], [pkg.version])
  })

  test('Claude Desktop over stdio: npx runs mcp-openai-router --stdio, the key as .env.example\'s refused placeholder', async () => {
    const server = JSON.parse(await assertEmbedded(readme, 'examples/clients/claude-desktop-stdio.json', 'json')).mcpServers['openai-router']
    assertStartsStdio(server)
    assert.equal(server.env.OPENAI_API_KEY, PLACEHOLDER_API_KEY, 'copied unedited, start-up says to set the key')
  })

  test('Cursor over stdio: the key from the environment Cursor started in', async () => {
    const server = JSON.parse(await assertEmbedded(readme, 'examples/clients/cursor-stdio.json', 'json')).mcpServers['openai-router']
    assertStartsStdio(server)
    assert.match(server.env.OPENAI_API_KEY, /^\$\{env:OPENAI_API_KEY\}$/)
  })

  test('VS Code over stdio: "type": "stdio", the key from a password input', async () => {
    const config = JSON.parse(await assertEmbedded(readme, 'examples/clients/vscode-stdio.json', 'json'))
    const server = config.servers['openai-router']
    assert.equal(server.type, 'stdio')
    assertStartsStdio(server)
    const input = /^\$\{input:([\w-]+)\}$/.exec(server.env.OPENAI_API_KEY)?.[1]
    assert.deepEqual(config.inputs.find((candidate: { id: string }) => candidate.id === input), {
      type: 'promptString', id: input, description: 'OpenAI API key', password: true,
    })
  })

  describe('the real clients, installed from npm, run the snippets against the router', () => {
    let home: ClientHome
    beforeEach(async () => { home = await ClientHome.create(CLIENT_KEY) })
    afterEach(async () => { await home.remove() })

    /** A README command aimed at the test's router: npm start's URL replaced by its URL. */
    async function shellSnippet (path: string): Promise<string> {
      const [command, ...rest] = commandsOf(await assertEmbedded(readme, path, 'bash'))
      assert.equal(rest.length, 0, `${path} is one command`)
      assert.ok(command !== undefined && command.includes(NPM_START_MCP_URL), 'the snippet uses the URL of npm start')
      return (await home.shell(command.replace(NPM_START_MCP_URL, router.mcpUrl.href))).output
    }

    test(`Claude Code ${devVersion('@anthropic-ai/claude-code')}: claude mcp add, then claude mcp list shows it connected`, async () => {
      assert.match(await shellSnippet('examples/clients/claude-code.sh'), /Added HTTP MCP server openai-router/)
      assert.match((await home.shell('claude mcp list')).output, new RegExp(`openai-router: ${escape(router.mcpUrl.href)} \\(HTTP\\) - ✔ Connected`))
    })

    test(`Gemini CLI ${devVersion('@google/gemini-cli')}: gemini mcp add, then gemini mcp list in a trusted folder shows it connected`, async () => {
      await home.trustForGemini()
      assert.match(await shellSnippet('examples/clients/gemini-cli.sh'), /MCP server "openai-router" added/)
      assert.match((await home.shell('gemini mcp list')).output, new RegExp(`✓ openai-router: ${escape(router.mcpUrl.href)} \\(http\\) - Connected`))
    })

    test(`Codex ${devVersion('@openai/codex')}: codex mcp add, then its app-server lists the router's tools and calls echo`, async () => {
      await home.pointCodexAt(upstream.baseURL)
      assert.match(await shellSnippet('examples/clients/codex.sh'), /Added global MCP server 'openai-router'/)
      const codex = await CodexAppServer.start(home)
      try {
        const { data } = await codex.request<{ data: Array<{ name: string, tools: Record<string, unknown> }> }>('mcpServerStatus/list', {})
        assert.deepEqual(data.map((server) => [server.name, Object.keys(server.tools).sort()]), [['openai-router', TOOL_NAMES.split(', ').sort()]])
        const { thread } = await codex.request<{ thread: { id: string } }>('thread/start', { cwd: home.project })
        const result = await codex.request('mcpServer/tool/call', { server: 'openai-router', threadId: thread.id, tool: 'echo', arguments: { text: 'ping' } })
        assert.deepEqual(result, { content: [{ type: 'text', text: 'ping' }], structuredContent: { text: 'ping' } })
      } finally {
        await codex.close()
      }
    })

    test(`MCP Inspector ${devVersion('@modelcontextprotocol/inspector')}: the pinned CLI commands list the tools and call echo`, async () => {
      const commands = commandsOf(await assertEmbedded(readme, 'examples/clients/inspector.sh', 'bash'))
      assert.equal(commands.length, 2)
      for (const command of commands) assert.match(command, new RegExp(`^npx ${escape(`@modelcontextprotocol/inspector@${devVersion('@modelcontextprotocol/inspector')}`)} --cli ${escape(NPM_START_MCP_URL)} `), 'pinned to the version the tests run')
      // In the clone, npx runs the installed Inspector (npm_config_offline: it downloads nothing).
      const [list, call] = await Promise.all(commands.map(async (command) => (await home.shell(`cd ${JSON.stringify(process.cwd())} && ${command.replace(NPM_START_MCP_URL, router.mcpUrl.href)}`)).stdout))
      assert.deepEqual((JSON.parse(list ?? '') as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name).join(', '), TOOL_NAMES)
      assert.deepEqual(JSON.parse(call ?? '').content, [{ type: 'text', text: 'ping' }])
    })
  })

  test(`OpenAI Agents SDK ${devVersion('@openai/agents')}: MCPServerStreamableHttp lists the router's tools and calls echo`, async () => {
    const stdout = await runEmbeddedExample('examples/clients/openai-agents.ts', { OPENAI_AGENTS_DISABLE_TRACING: '1' })
    assert.equal(stdout, `tools: ${TOOL_NAMES}\necho: ping\n`)
  })

  test(`OpenAI Agents SDK ${devVersion('@openai/agents')}: an Agent with the router as its MCP server calls echo, its model the test upstream`, async () => {
    setTracingDisabled(true)
    setDefaultOpenAIClient(new OpenAI({ baseURL: upstream.baseURL, apiKey: 'sk-agents-test' }))
    const server = new MCPServerStreamableHttp({ name: 'openai-router', url: router.mcpUrl.href, requestInit: { headers: { Authorization: `Bearer ${CLIENT_KEY}` } } })
    await server.connect()
    try {
      upstream.reset()
      upstream.script('POST /v1/responses', { json: upstream.functionCallResponse('gpt-4.1-mini', [{ id: 'call_1', name: 'echo', arguments: '{"text":"ping"}' }]) })
      const agent = new Agent({ name: 'router agent', instructions: 'Use the router\'s tools.', model: 'gpt-4.1-mini', mcpServers: [server] })
      const result = await runAgent(agent, 'Echo ping with the router.')
      const [first, second] = upstream.received('POST /v1/responses').map((request) => request.body as { tools: Array<{ name: string }>, input: Array<{ type?: string, output?: unknown }> })
      assert.deepEqual(first?.tools.map((tool) => tool.name).join(', '), TOOL_NAMES, 'the model is offered the router\'s tools')
      assert.deepEqual(second?.input.find((item) => item.type === 'function_call_output')?.output, [{ type: 'input_text', text: 'ping' }], 'the router\'s echo answered the model\'s call')
      assert.equal(typeof result.finalOutput, 'string')
    } finally {
      await server.close()
    }
  })

  test(`LangChain ${devVersion('@langchain/mcp-adapters')}: MultiServerMCPClient takes the README's connections and gets the router's tools`, async () => {
    const connections = JSON.parse(await assertEmbedded(readme, 'examples/clients/langchain.json', 'json'))
    const connection = connections['openai-router']
    assert.equal(connection.url, NPM_START_MCP_URL)
    const client = new MultiServerMCPClient({ 'openai-router': { ...connection, url: router.mcpUrl.href, headers: { Authorization: connection.headers.Authorization.replace('YOUR_CLIENT_KEY', CLIENT_KEY) } } })
    try {
      assert.equal((await client.getTools()).map((tool) => tool.name).join(', '), TOOL_NAMES)
    } finally {
      await client.close()
    }
  })

  test(`LangGraph ${devVersion('@langchain/langgraph')}: the example's agent calls the router's echo and answers with its result`, async () => {
    await assertEmbedded(readme, 'examples/clients/langgraph.ts', 'ts')
    const { routerAgent } = await import('../examples/clients/langgraph.js')
    const saved = { url: process.env.ROUTER_URL, key: process.env.ROUTER_CLIENT_KEY }
    process.env.ROUTER_URL = router.mcpUrl.href
    process.env.ROUTER_CLIENT_KEY = CLIENT_KEY
    const { agent, close } = await routerAgent(new EchoOnceModel({}))
    restoreEnv('ROUTER_URL', saved.url)
    restoreEnv('ROUTER_CLIENT_KEY', saved.key)
    try {
      const { messages } = await agent.invoke({ messages: [{ role: 'user', content: 'Echo ping, please.' }] })
      const toolMessage = messages.find((message) => ToolMessage.isInstance(message))
      assert.equal(toolMessage?.name, 'echo')
      // The adapters hand the model the tool's text and structured content, as JSON.
      assert.equal(JSON.parse(String(toolMessage?.content)).text, 'ping', 'the router\'s echo answered the agent\'s call')
      assert.equal(messages.at(-1)?.content, `The router said: ${String(toolMessage?.content)}`)
    } finally {
      await close()
    }
  })

  test('Cursor: mcpServers with url and headers, the key from the environment', async () => {
    const config = JSON.parse(await assertEmbedded(readme, 'examples/clients/cursor.json', 'json'))
    const server = config.mcpServers['openai-router']
    const fromEnvironment = /\$\{env:ROUTER_CLIENT_KEY\}/
    assert.match(server.headers.Authorization, fromEnvironment)
    const authorization = server.headers.Authorization.replace(fromEnvironment, CLIENT_KEY)
    await assertReaches(server.url, { Authorization: authorization })
  })

  test('VS Code: servers with "type": "http", the key from a password input', async () => {
    const config = JSON.parse(await assertEmbedded(readme, 'examples/clients/vscode.json', 'json'))
    assert.equal(config.mcpServers, undefined, 'VS Code reads "servers"')
    const server = config.servers['openai-router']
    assert.equal(server.type, 'http')
    const input = /\$\{input:([\w-]+)\}/.exec(server.headers.Authorization)?.[1]
    assert.deepEqual(config.inputs.find((candidate: { id: string }) => candidate.id === input), {
      type: 'promptString', id: input, description: 'mcp-openai-router client key', password: true,
    })
    await assertReaches(server.url, { Authorization: server.headers.Authorization.replace(`\${input:${input}}`, CLIENT_KEY) })
  })

  test('Vercel AI SDK: the example runs and gets the router\'s tools', async () => {
    const stdout = await runEmbeddedExample('examples/clients/vercel-ai.ts')
    assert.equal(stdout, `tools: ${TOOL_NAMES}\n`)
  })

  test('the compose URL is the port docker-compose.yml publishes', async () => {
    const compose = await readText('docker-compose.yml')
    const published = /- "(\d+):(\d+)"/.exec(compose)
    assert.ok(published)
    assert.equal(published[2], String(ConfigSchema.properties.PORT.default))
    assert.ok(readme.includes(`\`http://localhost:${published[1]}/mcp\``), 'the connect table names the published port')
    assert.ok(readme.includes(`--cli http://localhost:${published[1]}/mcp`), 'the Docker section checks the published port')
  })

  test('documents every configuration variable', async () => {
    const [docs, envExample] = await Promise.all([Promise.all(['README.md', 'docs/configuration.md'].map(readText)), readText('.env.example')])
    for (const name of Object.keys(ConfigSchema.properties)) {
      assert.ok(docs.some((doc) => doc.includes(`\`${name}\``)), `README or docs/configuration.md names ${name}`)
      assert.match(envExample, new RegExp(`^#? ?${name}=`, 'm'), `.env.example lists ${name}`)
    }
  })

  test('documents every tool, every argument of each, and every error code', async () => {
    const docs = (await Promise.all(DOCS.map(readText))).join('\n')
    const { tools } = await import('../src/mcp/tools/index.js')
    const { toolErrorCodes } = await import('../src/errors.js')
    for (const tool of tools) {
      const start = docs.indexOf(`### \`${tool.name}\``)
      assert.ok(start >= 0, `the docs have a section for ${tool.name}`)
      const section = docs.slice(start, docs.indexOf('\n### ', start + 1))
      for (const argument of Object.keys(tool.definition.inputSchema.properties ?? {})) {
        assert.ok(section.includes(`\`${argument}\``), `the docs explain ${tool.name}'s ${argument}`)
      }
      assert.ok(section.includes(`"name": "${tool.name}"`), `the docs show a ${tool.name} call`)
    }
    for (const code of toolErrorCodes) assert.ok(docs.includes(`| \`${code}\` |`), `the docs explain error code ${code}`)
  })

  test('every link between the README and docs/ leads to a file and heading that exist', async () => {
    for (const doc of DOCS) {
      const text = await readText(doc)
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const [path, anchor] = target!.split('#')
        const file = path ? join(dirname(doc), path) : doc
        assert.ok(existsSync(file), `${doc} links to ${target}: ${file} exists`)
        if (anchor) assert.ok(headingAnchors(await readText(file)).has(anchor), `${doc} links to ${target}: ${file} has that heading`)
      }
    }
  })
})

/** GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchors (markdown: string): Set<string> {
  const anchors = new Set<string>()
  for (const [, heading] of markdown.matchAll(/^#{1,6} +(.+)$/gm)) {
    anchors.add(heading!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-'))
  }
  return anchors
}
