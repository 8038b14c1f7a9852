import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { freePort } from '../test/support/ports.js'
import { type ReadyProcess, whenReady } from '../test/support/router-process.js'
import { MCP_HEADERS as ROUTER_MCP_HEADERS, initializeMessage } from '../test/support/router.js'

export const MCP_HEADERS = { ...ROUTER_MCP_HEADERS, 'mcp-protocol-version': initializeMessage.params.protocolVersion }

/** A tools/call body for request `id`. */
export const toolCall = (name: string, args: Record<string, unknown>) => (id: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })

/** Opens a stateful MCP session with raw HTTP (initialize, then initialized) and returns its id. */
export async function openSession (mcpUrl: string): Promise<string> {
  const initialize = await fetch(mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify(initializeMessage),
  })
  await initialize.text()
  const sessionId = initialize.headers.get('mcp-session-id')
  if (!initialize.ok || !sessionId) throw new Error(`initialize failed: ${initialize.status}`)
  const initialized = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  await initialized.text()
  return sessionId
}

/**
 * The reference MCP server (`@modelcontextprotocol/server-everything`) over Streamable HTTP, started
 * as its own CLI starts it.
 */
export async function startPeer (): Promise<ReadyProcess & { mcpUrl: string }> {
  const entry = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js')
  const port = await freePort()
  const child = spawn(process.execPath, [entry, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  const peer = await whenReady(child, /listening on port/, 'the peer MCP server to listen')
  return { ...peer, mcpUrl: `http://127.0.0.1:${port}/mcp` }
}

/**
 * Portkey's open-source AI gateway (`@portkey-ai/gateway`), the job a user might give it instead
 * of the router: OpenAI-compatible calls proxied to a provider. Started as its `start:node` script
 * does, headless and with NODE_ENV=production, as a deployment runs it; with `streamingFix`,
 * bench/portkey-streaming.ts preloaded, without which it fails every streamed answer under Node.
 */
export async function startGateway (
  { streamingFix = false } = {}
): Promise<ReadyProcess & { baseURL: string, version: string }> {
  const require = createRequire(import.meta.url)
  const entry = require.resolve('@portkey-ai/gateway/build/start-server.js')
  const { version } = require('@portkey-ai/gateway/package.json') as { version: string }
  const port = await freePort()
  const preload = streamingFix ? ['--import', fileURLToPath(new URL('portkey-streaming.ts', import.meta.url))] : []
  const child = spawn(process.execPath, [...preload, entry, `--port=${port}`, '--headless'], { env: { PATH: process.env.PATH, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const gateway = await whenReady(child, /Ready for connections/, 'the Portkey gateway to listen')
  return { ...gateway, baseURL: `http://127.0.0.1:${port}/v1`, version }
}

/** bench/upstream.ts in its own process; its base URL once it listens. */
export async function startUpstreamProcess (): Promise<ReadyProcess & { baseURL: string }> {
  return startUpstream('upstream.ts')
}

/** bench/paced-upstream.ts in its own process; its base URL once it listens. */
export async function startPacedUpstreamProcess (): Promise<ReadyProcess & { baseURL: string }> {
  return startUpstream('paced-upstream.ts')
}

async function startUpstream (file: string): Promise<ReadyProcess & { baseURL: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] })
  const upstream = await whenReady(child, /^(http\S+)\n/, `${file} to listen`)
  return { ...upstream, baseURL: upstream.ready[1] as string }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
export async function cpuMs (pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Resident set size of a process, in MB (Linux /proc). */
export async function rssMb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
  return kb / 1024
}

/** The Node flags `npm start` and the image run the router with (test/packaging.test.ts holds them to it). */
export const ROUTER_NODE_OPTIONS = '--max-semi-space-size=16'
