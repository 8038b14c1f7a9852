import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { BUILT_ENTRY, type ReadyProcess, type RouterProcess, startRouterProcess, whenReady } from '../test/support/router-process.js'
import { DELTAS, INTERVAL_MS } from './paced-answer.js'
import { MCP_HEADERS, openSession, startGateway, startPacedUpstreamProcess } from './servers.js'
import { concurrentStreams, type StreamRequest, type StreamsResult } from './streams.js'

/** Sessions the streams of a stateful router share, round-robin. */
const SESSIONS = 10

export type StreamApi = 'responses' | 'chat_completions'

/** One side of the comparison: who answers the streams, and whose process it costs. */
export interface StreamTarget {
  name: string
  kind: 'upstream' | 'router' | 'portkey'
  api: StreamApi
  stateful?: boolean
  /** Set for a router of another checkout's build (BENCH_COMPARE), measured beside this one's. */
  otherBuild?: string
  server: ReadyProcess
  request: StreamRequest
}

/** A target's runs at one concurrency, one per round. */
export interface StreamRow { target: StreamTarget, rounds: StreamsResult[] }

/** The paced upstream, a router for each API and session mode, and a Portkey gateway, each in a process of its own. */
export interface StreamServers { targets: StreamTarget[], processes: ReadyProcess[], settings: string }

const apiPath = (api: StreamApi) => api === 'responses' ? '/responses' : '/chat/completions'
const API_NAMES: Record<StreamApi, string> = { responses: 'Responses', chat_completions: 'Chat Completions' }

/** An OpenAI request for a streamed answer, with a prompt of its own (no cache anywhere answers it). */
function openAiBody (api: StreamApi): (index: number) => string {
  return api === 'responses'
    ? (index) => JSON.stringify({ model: 'gpt-4.1-mini', input: `stream ${index}`, stream: true })
    : (index) => JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `stream ${index}` }], stream: true, stream_options: { include_usage: true } })
}

/** A `chat` call with a progress token, numbered `index` (its id, token and prompt). */
const streamedChat = (index: number) => JSON.stringify({
  jsonrpc: '2.0', id: index, method: 'tools/call', params: { name: 'chat', arguments: { prompt: `stream ${index}` }, _meta: { progressToken: index } },
})

/**
 * Starts every target's process. The routers run with `routerEnv` (a production deployment's
 * settings) plus their API and session mode; Portkey with its streaming fix preloaded.
 */
export async function startStreamServers (
  routerEnv: Record<string, string>,
  { otherBuild, only }: { otherBuild?: string | undefined, only?: string[] | undefined } = {}
): Promise<StreamServers> {
  const wanted = (name: string) => !only || only.some((part) => name.includes(part))
  const processes: ReadyProcess[] = []
  const started = async <T extends ReadyProcess>(starting: Promise<T>): Promise<T> => {
    const server = await starting
    processes.push(server)
    return server
  }
  try {
    const upstream = await started(startPacedUpstreamProcess())
    const gateway = await started(startGateway({ streamingFix: true }))
    const gatewayHeaders = { 'content-type': 'application/json', authorization: `Bearer ${routerEnv.OPENAI_API_KEY}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.baseURL }
    const targets: StreamTarget[] = []
    for (const api of ['responses', 'chat_completions'] as const) {
      targets.push({ name: `upstream alone, ${API_NAMES[api]}`, kind: 'upstream', api, server: upstream, request: { url: `${upstream.baseURL}${apiPath(api)}`, headers: () => ({ 'content-type': 'application/json' }), body: openAiBody(api), format: api } })
    }
    for (const build of [undefined, ...(otherBuild ? [otherBuild] : [])]) {
      for (const api of ['responses', 'chat_completions'] as const) {
        for (const stateful of [false, true]) {
          const env = { ...routerEnv, OPENAI_BASE_URL: upstream.baseURL, UPSTREAM_API: api, MCP_SESSIONS: stateful ? 'stateful' : 'stateless' }
          const name = `router \`chat\`, ${API_NAMES[api]}, ${stateful ? `in a session (${SESSIONS} sessions)` : 'stateless'}${build ? ' (other build)' : ''}`
          if (!wanted(name)) continue
          const router = await started(build ? startBuild(build, env) : startRouterProcess(env))
          const url = `http://127.0.0.1:${router.port}/mcp`
          const sessions = stateful ? await Promise.all(Array.from({ length: SESSIONS }, () => openSession(url))) : []
          const headers = (index: number): Record<string, string> =>
            sessions.length > 0 ? { ...MCP_HEADERS, 'mcp-session-id': sessions[index % sessions.length] as string } : MCP_HEADERS
          const request: StreamRequest = { url, headers, body: streamedChat, format: 'mcp' }
          targets.push({ name, kind: 'router', api, stateful, ...(build && { otherBuild: build }), server: router, request })
        }
      }
    }
    for (const api of ['responses', 'chat_completions'] as const) {
      targets.push({ name: `Portkey gateway, ${API_NAMES[api]}`, kind: 'portkey', api, server: gateway, request: { url: `${gateway.baseURL}${apiPath(api)}`, headers: () => gatewayHeaders, body: openAiBody(api), format: api } })
    }
    const settings = `a paced upstream (${DELTAS} text deltas per answer, one every ${INTERVAL_MS} ms, in each API's SSE format); the routers as above with \`UPSTREAM_API\` and \`MCP_SESSIONS\` set per target and \`PROGRESS_INTERVAL_MS\` at its default; \`chat\` called with a progress token, each stream with a prompt of its own`
    return { targets, processes, settings }
  } catch (err) {
    await Promise.all(processes.map((child) => child.kill()))
    throw err
  }
}

/** A router from another checkout's build (its dist/ and node_modules), started from its root as `npm start` would. */
async function startBuild (root: string, env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, [resolve(root, BUILT_ENTRY)], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const started = await whenReady(child, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, `the ${root} router to listen`)
  return { ...started, port: Number(started.ready[1]) }
}

/** Each target once per round at `concurrency` streams, the targets in order and then in reverse, alternately. */
export async function streamRounds (
  targets: StreamTarget[],
  concurrency: number,
  rounds: number
): Promise<StreamRow[]> {
  const rows = targets.map((target): StreamRow => ({ target, rounds: [] }))
  for (let round = 0; round < rounds; round++) {
    const order = targets.map((_, index) => index)
    if (round % 2 === 1) order.reverse()
    for (const index of order) {
      const row = rows[index] as StreamRow
      process.stderr.write(`bench: ${concurrency} streams, round ${round + 1}/${rounds}: ${row.target.name}\n`)
      row.rounds.push(await concurrentStreams(row.target.request, concurrency, row.target.server.process.pid as number))
    }
  }
  return rows
}
