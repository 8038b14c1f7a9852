/**
 * `npm run bench`: the router against the floor (the upstream called directly) and a peer MCP
 * server, all on loopback, with a local OpenAI-compatible upstream that answers at once. Writes
 * bench/results/latest.md and prints it. BENCH_DURATION_S shortens or lengthens each scenario;
 * BENCH_ROUTER_NODE_OPTIONS runs the routers with Node or V8 flags (a heap tuning) to compare.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import OpenAI from 'openai'
import { FakeOpenAI } from '../test/support/fake-openai.js'
import { type RouterProcess, startRouterProcess } from '../test/support/router-process.js'
import { parseExposition, sampleValue } from '../test/support/prometheus.js'
import { closedLoop, fixedRate, httpLoad, type LoadResult, summarize } from './load.js'
import { MCP_HEADERS, openSession, rssMb, startPeer, startUpstreamProcess, toolCall } from './servers.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CLIENTS = 16
/** The fixed load at which added latency is read: busy, well below saturation. */
const FIXED_RATE = 400
const SESSIONS = 1000
const SOAK_ROUNDS = 10
const PROGRESS_SAMPLES = 200
const API_KEY = 'sk-bench'

interface Row { name: string, result: LoadResult }

/** The router's young-generation GC pauses over a scenario, from its own /metrics. */
interface GcPauses { count: number, totalMs: number }

interface LatencyRow extends Row { gc?: GcPauses }

// Load goes to an upstream process of its own; the one in this process records what it is sent,
// for the floor's request and the progress timings, and sees one call at a time.
const upstream = await startUpstreamProcess()
const recordingUpstream = await FakeOpenAI.start()
const routerEnv = { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: upstream.baseURL, UPSTREAM_MAX_RETRIES: '0', READY_CHECK_UPSTREAM: 'false', NODE_OPTIONS: process.env.BENCH_ROUTER_NODE_OPTIONS ?? '' }
const routers: RouterProcess[] = []
const stateless = await startRouterProcess({ ...routerEnv, MCP_SESSIONS: 'stateless' })
routers.push(stateless)
const recorded = await startRouterProcess({ ...routerEnv, OPENAI_BASE_URL: recordingUpstream.baseURL })
routers.push(recorded)
// The sessions all come from one address: the per-client limit must let them all open.
const statefulEnv = { ...routerEnv, MCP_SESSIONS: 'stateful', MCP_MAX_SESSIONS: String(SESSIONS + 10), MCP_MAX_SESSIONS_PER_CLIENT: String(SESSIONS + 10) }
const stateful = await startRouterProcess(statefulEnv)
routers.push(stateful)
const peer = await startPeer()

const statelessUrl = `http://127.0.0.1:${stateless.port}/mcp`
const recordedUrl = `http://127.0.0.1:${recorded.port}/mcp`
const statefulUrl = `http://127.0.0.1:${stateful.port}/mcp`
const echo = toolCall('echo', { text: 'hello' })
const chat = toolCall('chat', { prompt: 'hello' })

try {
  // The floor's request is the one the router sends for `chat`, read off the upstream.
  await (await fetch(recordedUrl, { method: 'POST', headers: MCP_HEADERS, body: chat(1) })).text()
  const routerRequest = recordingUpstream.received('POST /v1/responses')[0]?.body as OpenAI.Responses.ResponseCreateParamsNonStreaming
  const openai = new OpenAI({ apiKey: API_KEY, baseURL: upstream.baseURL, maxRetries: 0 })
  const floorCall = async () => { await openai.responses.create(routerRequest, { timeout: 10_000 }) }
  let callId = 0
  const routerCall = (url: string, body: (id: number) => string, headers: Record<string, string> = {}) => async () => {
    const response = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: body(++callId), signal: AbortSignal.timeout(10_000) })
    const text = await response.text()
    if (!response.ok || text.includes('"isError":true')) throw new Error(`${response.status} ${text}`)
  }

  const routerSession = { 'mcp-session-id': await openSession(statefulUrl) }
  const peerSession = { 'mcp-session-id': await openSession(peer.mcpUrl) }
  const load = (url: string, body: (id: number) => string, headers: Record<string, string> = {}) =>
    httpLoad({ url, body, headers: { ...MCP_HEADERS, ...headers }, connections: CLIENTS, durationS: DURATION_S })

  // Warm-up: JIT, connection pools, lazily built state, in every server.
  await closedLoop(floorCall, CLIENTS, 2)
  for (const [url, body, headers] of [[statelessUrl, echo, {}], [statelessUrl, chat, {}], [statefulUrl, chat, routerSession], [peer.mcpUrl, toolCall('echo', { message: 'hello' }), peerSession]] as const) {
    await httpLoad({ url, body, headers: { ...MCP_HEADERS, ...headers }, connections: CLIENTS, durationS: 2 })
  }

  const throughput: Row[] = []
  const measure = async (name: string, run: () => Promise<LoadResult>) => {
    process.stderr.write(`bench: ${name}\n`)
    const result = await run()
    throughput.push({ name, result })
    return result
  }
  const floor = await measure('floor: `openai` SDK → upstream', () => closedLoop(floorCall, CLIENTS, DURATION_S))
  const echoStateless = await measure('router `echo`, stateless JSON', () => load(statelessUrl, echo))
  const echoStateful = await measure('router `echo`, stateful session (SSE)', () => load(statefulUrl, echo, routerSession))
  const peerEcho = await measure('peer `server-everything` `echo`, session (SSE)', () => load(peer.mcpUrl, toolCall('echo', { message: 'hello' }), peerSession))
  await measure('router `chat` → upstream, stateless JSON', () => load(statelessUrl, chat))
  await measure('router `chat` → upstream, stateful session (SSE)', () => load(statefulUrl, chat, routerSession))

  const latency: LatencyRow[] = []
  const atRate = async (name: string, call: () => Promise<void>, router?: RouterProcess) => {
    process.stderr.write(`bench: ${name} at ${FIXED_RATE}/s\n`)
    const before = router && await minorGc(router)
    const result = await fixedRate(call, FIXED_RATE, CLIENTS, DURATION_S)
    const after = router && await minorGc(router)
    latency.push({ name, result, ...(before && after && { gc: { count: after.count - before.count, totalMs: after.totalMs - before.totalMs } }) })
    return result
  }
  const floorAtRate = await atRate('floor: `openai` SDK → upstream', floorCall)
  const chatAtRate = await atRate('router `chat`, stateless JSON', routerCall(statelessUrl, chat), stateless)
  await atRate('router `chat`, stateful session (SSE)', routerCall(statefulUrl, chat, routerSession), stateful)

  process.stderr.write('bench: progress latency\n')
  const progress = await progressLatency(recordedUrl)

  // A router of its own, which no load has grown: what the sessions themselves cost.
  process.stderr.write(`bench: RSS with ${SESSIONS} sessions\n`)
  const fresh = await startRouterProcess(statefulEnv)
  routers.push(fresh)
  const freshUrl = `http://127.0.0.1:${fresh.port}/mcp`
  await openSession(freshUrl)
  const idleRss = await rssMb(fresh.process.pid as number)
  for (let opened = 1; opened < SESSIONS; opened += 50) {
    await Promise.all(Array.from({ length: Math.min(50, SESSIONS - opened) }, () => openSession(freshUrl)))
  }
  const sessionsRss = await rssMb(fresh.process.pid as number)

  process.stderr.write('bench: soak\n')
  const soak = await soakRss(stateless, statelessUrl)

  const report = formatReport({ floor, throughput, latency, floorAtRate, chatAtRate, echoStateless, echoStateful, peerEcho, progress, idleRss, sessionsRss, soak })
  await mkdir(new URL('results/', import.meta.url), { recursive: true })
  await writeFile(new URL('results/latest.md', import.meta.url), report)
  process.stdout.write(report)
} finally {
  await Promise.all([peer, upstream, ...routers].map((child) => child.kill()))
  await recordingUpstream.close()
}

async function minorGc (router: RouterProcess): Promise<GcPauses> {
  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${router.port}/metrics`)).text())
  return {
    count: sampleValue(samples, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }),
    totalMs: sampleValue(samples, 'nodejs_gc_duration_seconds_sum', { kind: 'minor' }) * 1000,
  }
}

/** Time from the upstream writing the first piece of the answer to the client's first progress notification (ms). */
async function progressLatency (mcpUrl: string): Promise<LoadResult> {
  const client = new Client({ name: 'bench-progress', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)))
  const delays: number[] = []
  let errors = 0
  try {
    for (let sample = 0; sample < PROGRESS_SAMPLES; sample++) {
      recordingUpstream.reset()
      let firstProgressAt: number | undefined
      await client.callTool({ name: 'chat', arguments: { prompt: 'a streamed answer of several pieces' } }, undefined, {
        onprogress: () => { firstProgressAt ??= performance.now() },
      })
      const firstTokenAt = recordingUpstream.received('POST /v1/responses')[0]?.firstTokenAt
      if (firstProgressAt === undefined || firstTokenAt === undefined) errors++
      else delays.push(firstProgressAt - firstTokenAt)
    }
  } finally {
    await client.close()
  }
  return summarize(delays, Number.NaN, errors)
}

/** RSS of the stateless router over rounds of `chat` and `echo` load: flat when nothing leaks. */
async function soakRss (router: RouterProcess, mcpUrl: string): Promise<{ requests: number, rss: number[] }> {
  const rss: number[] = []
  let requests = 0
  for (let round = 0; round < SOAK_ROUNDS; round++) {
    for (const body of [chat, echo]) {
      requests += (await httpLoad({ url: mcpUrl, body, headers: MCP_HEADERS, connections: CLIENTS, durationS: Math.max(1, DURATION_S / 5) })).requests
    }
    rss.push(await rssMb(router.process.pid as number))
  }
  return { requests, rss }
}

interface Report {
  floor: LoadResult
  throughput: Row[]
  latency: LatencyRow[]
  floorAtRate: LoadResult
  chatAtRate: LoadResult
  echoStateless: LoadResult
  echoStateful: LoadResult
  peerEcho: LoadResult
  progress: LoadResult
  idleRss: number
  sessionsRss: number
  soak: { requests: number, rss: number[] }
}

function formatReport ({ floor, throughput, latency, floorAtRate, chatAtRate, echoStateless, echoStateful, peerEcho, progress, idleRss, sessionsRss, soak }: Report): string {
  const ms = (value: number) => value.toFixed(2)
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`
  const verdict = (met: boolean) => met ? 'met' : '**missed**'
  const addedP50 = chatAtRate.p50 - floorAtRate.p50
  const addedP99 = chatAtRate.p99 - floorAtRate.p99
  const soakGrowth = (soak.rss.at(-1) ?? 0) - (soak.rss[0] ?? 0)
  const cpu = cpus()
  const lines = [
    '# mcp-openai-router benchmark',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${DURATION_S} s per scenario, ${CLIENTS} concurrent clients, loopback, the upstream a process of its own answering at once`,
    '',
    `## Throughput (${CLIENTS} clients, each sending its next request as soon as the last is answered)`,
    '',
    '| Scenario | req/s | vs floor | p50 ms | p90 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...throughput.map(({ name, result }) => `| ${name} | ${result.throughput.toFixed(0)} | ${ratio(result.throughput, floor.throughput)} | ${ms(result.p50)} | ${ms(result.p90)} | ${ms(result.p99)} | ${result.errors} |`),
    '',
    `## Added latency (${FIXED_RATE} requests/s from up to ${CLIENTS} clients)`,
    '',
    '| Scenario | p50 ms | p90 ms | p99 ms | p50 vs floor | p99 vs floor | errors | router minor GCs (mean pause) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...latency.map(({ name, result, gc }) => `| ${name} | ${ms(result.p50)} | ${ms(result.p90)} | ${ms(result.p99)} | +${ms(result.p50 - floorAtRate.p50)} ms (${ratio(result.p50, floorAtRate.p50)}) | +${ms(result.p99 - floorAtRate.p99)} ms (${ratio(result.p99, floorAtRate.p99)}) | ${result.errors} | ${gc ? `${gc.count} (${ms(gc.totalMs / Math.max(1, gc.count))} ms)` : '—'} |`),
    '',
    '## Progress and memory',
    '',
    '| Measure | Value |',
    '|---|---:|',
    `| upstream's first token → client's first progress notification (p50 / p90 / p99, ${progress.requests} calls) | ${ms(progress.p50)} / ${ms(progress.p90)} / ${ms(progress.p99)} ms |`,
    `| router RSS, fresh process, one session | ${idleRss.toFixed(1)} MB |`,
    `| router RSS with ${SESSIONS} open sessions | ${sessionsRss.toFixed(1)} MB |`,
    `| router RSS over a soak of ${soak.requests} calls, after each of ${soak.rss.length} rounds | ${soak.rss.map((mb) => mb.toFixed(0)).join(' → ')} MB (${soakGrowth >= 0 ? '+' : ''}${soakGrowth.toFixed(1)}) |`,
    '',
    '## Targets',
    '',
    '| Target | Measured | |',
    '|---|---:|---|',
    `| \`echo\` throughput ≥ the peer's (sessions, SSE) | ${ratio(echoStateful.throughput, peerEcho.throughput)} (stateless: ${ratio(echoStateless.throughput, peerEcho.throughput)}) | ${verdict(echoStateful.throughput >= peerEcho.throughput)} |`,
    `| \`chat\` added p50 ≤ 1 ms | +${ms(addedP50)} ms | ${verdict(addedP50 <= 1)} |`,
    `| \`chat\` added p99 ≤ 5 ms | +${ms(addedP99)} ms | ${verdict(addedP99 <= 5)} |`,
    `| RSS ≤ 100 MB with ${SESSIONS} sessions | ${sessionsRss.toFixed(1)} MB | ${verdict(sessionsRss <= 100)} |`,
    '',
  ]
  return lines.join('\n')
}
