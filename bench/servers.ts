import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { freePort } from '../test/support/ports.js'
import { waitFor } from '../test/support/wait-for.js'

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
}

/** A tools/call body for request `id`. */
export const toolCall = (name: string, args: Record<string, unknown>) => (id: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })

/** Opens a stateful MCP session with raw HTTP (initialize, then initialized) and returns its id. */
export async function openSession (mcpUrl: string): Promise<string> {
  const initialize = await fetch(mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } }),
  })
  await initialize.text()
  const sessionId = initialize.headers.get('mcp-session-id')
  if (!initialize.ok || !sessionId) throw new Error(`initialize failed: ${initialize.status}`)
  const initialized = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  await initialized.text()
  return sessionId
}

/** The reference MCP server (`@modelcontextprotocol/server-everything`) over Streamable HTTP, started as its own CLI starts it. */
export async function startPeer (): Promise<{ pid: number, mcpUrl: string, stop: () => Promise<void> }> {
  const entry = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js')
  const port = await freePort()
  const child = spawn(process.execPath, [entry, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk })
  await waitFor(() => stderr.includes('listening on port') || child.exitCode !== null, 'the peer MCP server to listen', 20_000)
  if (child.exitCode !== null) throw new Error(`the peer MCP server exited: ${stderr}`)
  child.stderr.removeAllListeners('data').resume()
  return {
    pid: child.pid as number,
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    async stop () {
      child.kill('SIGKILL')
      await once(child, 'exit')
    },
  }
}

/** bench/upstream.ts in its own process; its base URL once it listens. */
export async function startUpstreamProcess (): Promise<{ baseURL: string, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('upstream.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk })
  await waitFor(() => stdout.includes('\n') || child.exitCode !== null, 'the upstream process to listen', 20_000)
  if (child.exitCode !== null) throw new Error(`the upstream process exited with ${child.exitCode}`)
  return {
    baseURL: stdout.trim(),
    async stop () {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** Resident set size of a process, in MB (Linux /proc). */
export async function rssMb (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
  return kb / 1024
}
