/**
 * `npm run bench`: the router beside the floor (the upstream called directly), the reference MCP
 * server (`server-everything`) and an AI gateway users put between their agents and OpenAI
 * (Portkey's), all on loopback, with a local OpenAI-compatible upstream process that answers at
 * once. Every scenario runs in interleaved rounds (forwards, then backwards, …), so the drifting
 * load of a shared machine weighs on all alike; targets are ratios within one run. Writes
 * bench/results/latest.md and prints it. BENCH_ROUNDS (3) and BENCH_DURATION_S (5, per scenario
 * and round) set the length; BENCH_ROUTER_NODE_OPTIONS replaces the routers' Node flags (the
 * ones `npm start` and the image use) to compare a heap tuning.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import OpenAI from 'openai'
import { FakeOpenAI } from '../test/support/fake-openai.js'
import { type ReadyProcess, type RouterProcess, startRouterProcess } from '../test/support/router-process.js'
import { parseExposition, sampleValue } from '../test/support/prometheus.js'
import { closedLoop, fixedRate, httpLoad, type LoadResult, summarize } from './load.js'
import { cpuMs, MCP_HEADERS, openSession, ROUTER_NODE_OPTIONS, rssMb, startGateway, startPeer, startUpstreamProcess, toolCall } from './servers.js'
import { type StreamApi, type StreamRow, startStreamServers, streamRounds, type StreamTarget } from './stream-scenario.js'
import { concurrentStreams, type StreamsResult } from './streams.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5)
const CLIENTS = 16
const WARM_UP_S = 2
/** The fixed load at which latency is compared: busy, below saturation. */
const FIXED_RATE = 400
const SESSIONS = 1000
const SOAK_ROUNDS = 10
const PROGRESS_SAMPLES = 200
const API_KEY = 'sk-bench'
const NODE_OPTIONS = process.env.BENCH_ROUTER_NODE_OPTIONS ?? ROUTER_NODE_OPTIONS
/** Which parts run: `calls` (every non-streamed scenario), `streams`. */
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'calls,streams').split(','))
/** Concurrent streams of each streaming run. */
const STREAM_COUNTS = (process.env.BENCH_STREAMS ?? '300,1000').split(',').map(Number)
const STREAM_WARM_UP = 50
/** Another checkout whose build's routers stream beside this one's (its `npm run build` first). */
const OTHER_BUILD = process.env.BENCH_COMPARE
/** `|`-separated parts of the router targets' names to run (all when unset). */
const STREAM_TARGETS = process.env.BENCH_STREAM_TARGETS?.split('|')
/** The router's RSS idle and with the sessions open, before issue 28's changes (docs/performance.md). */
const BEFORE_RSS = { idle: 155, sessions: 186 }
/** A production deployment's settings: logs at info, metrics, limits and checks all on (defaults). */
const productionEnv = { OPENAI_API_KEY: API_KEY, UPSTREAM_MAX_RETRIES: '0', READY_CHECK_UPSTREAM: 'false', LOG_LEVEL: 'info', NODE_OPTIONS }

/** One scenario's load, and the server process whose CPU time it costs (none for the floor). */
interface Scenario { name: string, server?: ReadyProcess, run: (durationS: number) => Promise<LoadResult> }

/** What one scenario measured in each round, and its server's CPU time per request (µs). */
interface Measured { name: string, rounds: LoadResult[], cpuPerRequest: number[], gc?: GcPauses }

/** Young-generation GC pauses of a router over its scenario, from its own /metrics. */
interface GcPauses { count: number, totalMs: number }

const mcpUrl = (router: RouterProcess) => `http://127.0.0.1:${router.port}/mcp`
const echo = toolCall('echo', { text: 'hello' })
const chat = toolCall('chat', { prompt: 'hello' })
/** What stops the servers and the in-process upstream at the end. */
const cleanups: Array<() => Promise<void>> = []
/** A server once it is ready, stopped with the others at the end. */
const started = async <T extends ReadyProcess>(starting: Promise<T>): Promise<T> => {
  const server = await starting
  cleanups.push(() => server.kill())
  return server
}

try {
  const calls = SCENARIOS.has('calls') ? await measureCalls() : undefined
  const streams = SCENARIOS.has('streams') ? await measureStreams() : undefined
  const report = formatReport({ calls, streams })
  await mkdir(new URL('results/', import.meta.url), { recursive: true })
  await writeFile(new URL('results/latest.md', import.meta.url), report)
  process.stdout.write(report)
} finally {
  await Promise.all(cleanups.map((cleanup) => cleanup()))
}

/** The non-streamed scenarios: throughput, latency at a fixed rate, progress latency, memory. */
async function measureCalls (): Promise<CallsReport> {
  // Load goes to an upstream process of its own; the one in this process records what it is sent,
  // for the floor's request and the progress timings, and sees one call at a time.
  const upstream = await started(startUpstreamProcess())
  const recordingUpstream = await FakeOpenAI.start()
  cleanups.push(() => recordingUpstream.close())
  const routerEnv = { ...productionEnv, OPENAI_BASE_URL: upstream.baseURL }
  // The chat router takes only `chat` load, exactly the gateway's, so their memory compares like for like.
  const chatRouter = await started(startRouterProcess({ ...routerEnv, MCP_SESSIONS: 'stateless' }))
  const echoRouter = await started(startRouterProcess({ ...routerEnv, MCP_SESSIONS: 'stateless' }))
  const recorder = await started(startRouterProcess({ ...routerEnv, OPENAI_BASE_URL: recordingUpstream.baseURL }))
  // The sessions all come from one address: the per-client limit must let them all open.
  const statefulEnv = { ...routerEnv, MCP_SESSIONS: 'stateful', MCP_MAX_SESSIONS: String(SESSIONS + 10), MCP_MAX_SESSIONS_PER_CLIENT: String(SESSIONS + 10) }
  const stateful = await started(startRouterProcess(statefulEnv))
  const peer = await started(startPeer())
  const gateway = await started(startGateway())
  const gatewayIdleRss = await rssMb(gateway.process.pid as number)

  // The floor's and the gateway's request is the one the router sends for `chat`, read off the upstream.
  await (await fetch(mcpUrl(recorder), { method: 'POST', headers: MCP_HEADERS, body: chat(1) })).text()
  const routerRequest = recordingUpstream.received('POST /v1/responses')[0]?.body as OpenAI.Responses.ResponseCreateParamsNonStreaming
  const openai = new OpenAI({ apiKey: API_KEY, baseURL: upstream.baseURL, maxRetries: 0 })
  const floorCall = async () => { await openai.responses.create(routerRequest, { timeout: 10_000 }) }
  const gatewayRequest = JSON.stringify(routerRequest)
  const gatewayHeaders = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.baseURL }
  const gatewayUrl = `${gateway.baseURL}/responses`
  let callId = 0
  const call = (url: string, body: (id: number) => string, headers: Record<string, string>) => async () => {
    const response = await fetch(url, { method: 'POST', headers, body: body(++callId), signal: AbortSignal.timeout(10_000) })
    const text = await response.text()
    if (!response.ok || text.includes('"isError":true')) throw new Error(`${response.status} ${text}`)
  }
  const mcpCall = (url: string, body: (id: number) => string, headers: Record<string, string> = {}) =>
    call(url, body, { ...MCP_HEADERS, ...headers })
  const gatewayCall = call(gatewayUrl, () => gatewayRequest, gatewayHeaders)

  const routerSession = { 'mcp-session-id': await openSession(mcpUrl(stateful)) }
  const peerSession = { 'mcp-session-id': await openSession(peer.mcpUrl) }
  const peerEcho = toolCall('echo', { message: 'hello' })
  const load = (url: string, body: (id: number) => string, headers: Record<string, string>, durationS: number) =>
    httpLoad({ url, body, headers, connections: CLIENTS, durationS })
  const mcpLoad = (url: string, body: (id: number) => string, headers: Record<string, string>, durationS: number) =>
    load(url, body, { ...MCP_HEADERS, ...headers }, durationS)
  const atFixedRate = (call: () => Promise<void>, durationS: number) => fixedRate(call, FIXED_RATE, CLIENTS, durationS)

  const throughputScenarios: Scenario[] = [
    { name: 'floor: `openai` SDK → upstream', run: (durationS) => closedLoop(floorCall, CLIENTS, durationS) },
    { name: 'router `echo`, stateless JSON', server: echoRouter, run: (durationS) => mcpLoad(mcpUrl(echoRouter), echo, {}, durationS) },
    { name: 'router `echo`, session (SSE)', server: stateful, run: (durationS) => mcpLoad(mcpUrl(stateful), echo, routerSession, durationS) },
    { name: 'peer `server-everything` `echo`, session (SSE)', server: peer, run: (durationS) => mcpLoad(peer.mcpUrl, peerEcho, peerSession, durationS) },
    { name: 'router `chat` → upstream, stateless JSON', server: chatRouter, run: (durationS) => mcpLoad(mcpUrl(chatRouter), chat, {}, durationS) },
    { name: 'router `chat` → upstream, session (SSE)', server: stateful, run: (durationS) => mcpLoad(mcpUrl(stateful), chat, routerSession, durationS) },
    { name: 'Portkey gateway `/v1/responses` → upstream', server: gateway, run: (durationS) => load(gatewayUrl, () => gatewayRequest, gatewayHeaders, durationS) },
  ]
  const latencyScenarios: Scenario[] = [
    { name: 'floor: `openai` SDK → upstream', run: (durationS) => atFixedRate(floorCall, durationS) },
    { name: 'router `chat`, stateless JSON', server: chatRouter, run: (durationS) => atFixedRate(mcpCall(mcpUrl(chatRouter), chat), durationS) },
    { name: 'router `chat`, session (SSE)', server: stateful, run: (durationS) => atFixedRate(mcpCall(mcpUrl(stateful), chat, routerSession), durationS) },
    { name: 'Portkey gateway `/v1/responses`', server: gateway, run: (durationS) => atFixedRate(gatewayCall, durationS) },
  ]

  // Warm-up: JIT, connection pools, lazily built state, in every server.
  for (const { run } of throughputScenarios) await run(WARM_UP_S)

  const throughput = await inRounds('throughput', throughputScenarios)
  const latency = await inRounds(`${FIXED_RATE}/s`, latencyScenarios)
  const afterLoadRss = {
    router: await rssMb(chatRouter.process.pid as number),
    gateway: await rssMb(gateway.process.pid as number),
  }

  process.stderr.write('bench: progress latency\n')
  const progress = await progressLatency(mcpUrl(recorder), recordingUpstream)

  // A router of its own, which no load has grown: what the sessions themselves cost.
  process.stderr.write(`bench: RSS with ${SESSIONS} sessions\n`)
  const fresh = await started(startRouterProcess(statefulEnv))
  await openSession(mcpUrl(fresh))
  const idleRss = await rssMb(fresh.process.pid as number)
  for (let opened = 1; opened < SESSIONS; opened += 50) {
    await Promise.all(Array.from({ length: Math.min(50, SESSIONS - opened) }, () => openSession(mcpUrl(fresh))))
  }
  const sessionsRss = await rssMb(fresh.process.pid as number)

  process.stderr.write('bench: soak\n')
  const soak = await soakRss(echoRouter)
  const gatewayVersion = gateway.version
  return { throughput, latency, progress, idleRss, sessionsRss, afterLoadRss, gatewayIdleRss, gatewayVersion, soak }
}

/** The streaming scenario: the paced upstream alone, the routers and Portkey, at each concurrency. */
async function measureStreams (): Promise<StreamsReport> {
  const streamServers = startStreamServers(productionEnv, { otherBuild: OTHER_BUILD, only: STREAM_TARGETS })
  const { targets, processes, settings } = await streamServers
  cleanups.push(...processes.map((child) => () => child.kill()))
  process.stderr.write('bench: streams, warm-up\n')
  for (const { request, server } of targets) {
    await concurrentStreams(request, STREAM_WARM_UP, server.process.pid as number)
  }
  const byConcurrency: StreamsReport['byConcurrency'] = []
  for (const concurrency of STREAM_COUNTS) {
    byConcurrency.push({ concurrency, rows: await streamRounds(targets, concurrency, ROUNDS) })
  }
  return { settings, byConcurrency }
}

/** Each scenario once per round, in the listed order and then the reverse, alternately. */
async function inRounds (what: string, scenarios: Scenario[]): Promise<Measured[]> {
  const measured = scenarios.map(({ name }): Measured => ({ name, rounds: [], cpuPerRequest: [] }))
  for (let round = 0; round < ROUNDS; round++) {
    const order = scenarios.map((_, index) => index)
    if (round % 2 === 1) order.reverse()
    for (const index of order) {
      const { name, server, run } = scenarios[index] as Scenario
      const row = measured[index] as Measured
      process.stderr.write(`bench: ${what}, round ${round + 1}/${ROUNDS}: ${name}\n`)
      const pid = server?.process.pid
      const router = server && 'port' in server ? server as RouterProcess : undefined
      const [cpuBefore, gcBefore] = await Promise.all([pid && cpuMs(pid), router && minorGc(router)])
      const result = await run(DURATION_S)
      const [cpuAfter, gcAfter] = await Promise.all([pid && cpuMs(pid), router && minorGc(router)])
      row.rounds.push(result)
      if (cpuBefore !== undefined && cpuAfter !== undefined) {
        row.cpuPerRequest.push((cpuAfter - cpuBefore) * 1000 / Math.max(1, result.requests))
      }
      if (gcBefore && gcAfter) {
        row.gc = {
          count: (row.gc?.count ?? 0) + gcAfter.count - gcBefore.count,
          totalMs: (row.gc?.totalMs ?? 0) + gcAfter.totalMs - gcBefore.totalMs,
        }
      }
    }
  }
  return measured
}

async function minorGc (router: RouterProcess): Promise<GcPauses> {
  const samples = parseExposition(await (await fetch(`http://127.0.0.1:${router.port}/metrics`)).text())
  return {
    count: sampleValue(samples, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }),
    totalMs: sampleValue(samples, 'nodejs_gc_duration_seconds_sum', { kind: 'minor' }) * 1000,
  }
}

/** Time from the upstream writing the first piece of the answer to the client's first progress notification (ms). */
async function progressLatency (url: string, recordingUpstream: FakeOpenAI): Promise<LoadResult> {
  const client = new Client({ name: 'bench-progress', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url)))
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

/** RSS of a stateless router over rounds of `chat` and `echo` load: flat when nothing leaks. */
async function soakRss (router: RouterProcess): Promise<{ requests: number, rss: number[] }> {
  const rss: number[] = []
  let requests = 0
  for (let round = 0; round < SOAK_ROUNDS; round++) {
    for (const body of [chat, echo]) {
      const durationS = Math.max(1, DURATION_S / 5)
      const load = { url: mcpUrl(router), body, headers: MCP_HEADERS, connections: CLIENTS, durationS }
      requests += (await httpLoad(load)).requests
    }
    rss.push(await rssMb(router.process.pid as number))
  }
  return { requests, rss }
}

interface CallsReport {
  throughput: Measured[]
  latency: Measured[]
  progress: LoadResult
  idleRss: number
  sessionsRss: number
  afterLoadRss: { router: number, gateway: number }
  gatewayIdleRss: number
  gatewayVersion: string
  soak: { requests: number, rss: number[] }
}

function median (values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? sorted[middle] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

function ms (value: number): string {
  return value.toFixed(2)
}

/** `median (min–max)` of per-round values. */
function spread (values: number[], digits = 2, unit = ''): string {
  const format = (value: number) => `${value.toFixed(digits)}${unit}`
  return values.length < 2 ? format(values[0] ?? Number.NaN) : `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`
}

/** Round by round, a's figure over b's: the two ran back to back in each round. */
function ratios (a: Measured, b: Measured, pick: (result: LoadResult) => number): number[] {
  return a.rounds.map((result, round) => pick(result) / pick(b.rounds[round] as LoadResult))
}

interface StreamsReport {
  settings: string
  byConcurrency: Array<{ concurrency: number, rows: StreamRow[] }>
}

interface Report { calls: CallsReport | undefined, streams: StreamsReport | undefined }

/** A target of the report's table: what it asks, what was measured, whether it was met. */
interface TargetRow { target: string, measured: string, met: boolean }

function formatReport ({ calls, streams }: Report): string {
  const cpu = cpus()
  const targets = [...(streams ? streamTargets(streams) : []), ...(calls ? callTargets(calls) : [])]
  const lines = [
    '# mcp-openai-router benchmark',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${ROUNDS} interleaved rounds per scenario, loopback`,
    '',
    `Routers as production runs them: \`node ${NODE_OPTIONS} dist/src/server.js\`, default settings (JSON logs at info, one line per call; metrics; body, rate and connection limits; Origin and Host checks; redaction of the router's keys in streamed text), no client keys, \`UPSTREAM_MAX_RETRIES=0\`, \`READY_CHECK_UPSTREAM=false\`. Portkey's gateway as its \`start:node\` script runs it (\`--headless\`, NODE_ENV=production). Figures are the median of the rounds, with their range; ratios are taken round by round, the two measured back to back.`,
    '',
    ...(calls ? callSections(calls) : []),
    ...(streams ? streamSections(streams) : []),
    '## Targets',
    '',
    '| Target | Measured (median of rounds, range) | |',
    '|---|---:|---|',
    ...targets.map(({ target, measured, met }) => `| ${target} | ${measured} | ${met ? 'met' : '**missed**'} |`),
    '',
  ]
  return lines.join('\n')
}

function callSections (calls: CallsReport): string[] {
  const { throughput, latency, progress, idleRss, sessionsRss, afterLoadRss, gatewayIdleRss, gatewayVersion } = calls
  const { soak } = calls
  const [floor] = throughput as [Measured]
  const [floorAtRate] = latency as [Measured]
  const soakGrowth = (soak.rss.at(-1) ?? 0) - (soak.rss[0] ?? 0)
  const cpuColumn = (row: Measured) => row.cpuPerRequest.length > 0 ? spread(row.cpuPerRequest, 0) : '—'
  return [
    `## Throughput (${CLIENTS} clients, each sending its next request as soon as the last is answered; ${DURATION_S} s per round)`,
    '',
    `The upstream a process of its own answering at once; Portkey ${gatewayVersion} sent the router's own upstream request.`,
    '',
    '| Scenario | req/s | vs floor | p50 ms | p90 ms | p99 ms | server CPU µs/request | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...throughput.map((row) => `| ${row.name} | ${spread(row.rounds.map((result) => result.throughput), 0)} | ${spread(ratios(row, floor, (result) => result.throughput), 2, '×')} | ${ms(median(row.rounds.map((result) => result.p50)))} | ${ms(median(row.rounds.map((result) => result.p90)))} | ${ms(median(row.rounds.map((result) => result.p99)))} | ${cpuColumn(row)} | ${errors(row)} |`),
    '',
    `## Latency at a fixed ${FIXED_RATE} requests/s (up to ${CLIENTS} at once)`,
    '',
    '| Scenario | p50 ms | p90 ms | p99 ms | p50 vs floor | server CPU µs/request | errors | router minor GCs (mean pause) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...latency.map((row) => `| ${row.name} | ${spread(row.rounds.map((result) => result.p50))} | ${spread(row.rounds.map((result) => result.p90))} | ${spread(row.rounds.map((result) => result.p99))} | +${ms(median(row.rounds.map((result, round) => result.p50 - (floorAtRate.rounds[round] as LoadResult).p50)))} ms | ${cpuColumn(row)} | ${errors(row)} | ${row.gc ? `${row.gc.count} (${ms(row.gc.totalMs / Math.max(1, row.gc.count))} ms)` : '—'} |`),
    '',
    '## Progress and memory',
    '',
    '| Measure | Value |',
    '|---|---:|',
    `| upstream's first token → client's first progress notification (p50 / p90 / p99, ${progress.requests} calls) | ${ms(progress.p50)} / ${ms(progress.p90)} / ${ms(progress.p99)} ms |`,
    `| router RSS, fresh process, one session | ${idleRss.toFixed(1)} MB |`,
    `| router RSS with ${SESSIONS} open sessions | ${sessionsRss.toFixed(1)} MB (+${(sessionsRss - idleRss).toFixed(1)}) |`,
    `| Portkey gateway RSS, idle | ${gatewayIdleRss.toFixed(1)} MB |`,
    `| RSS after the same \`chat\` load (throughput and fixed-rate rounds): router / Portkey gateway | ${afterLoadRss.router.toFixed(1)} / ${afterLoadRss.gateway.toFixed(1)} MB |`,
    `| router RSS over a soak of ${soak.requests} calls, after each of ${soak.rss.length} rounds | ${soak.rss.map((mb) => mb.toFixed(0)).join(' → ')} MB (${soakGrowth >= 0 ? '+' : ''}${soakGrowth.toFixed(1)}) |`,
    '',
  ]
}

/**
 * Issue 28's targets 3 and 4: non-streamed `chat` against Portkey, and no regression in the other
 * scenarios (the earlier targets).
 */
function callTargets ({ throughput, latency, idleRss, sessionsRss, afterLoadRss }: CallsReport): TargetRow[] {
  const [, echoStateless, echoSession, peerEcho, chatStateless, , gatewayChat] = throughput as Measured[] as
    [Measured, Measured, Measured, Measured, Measured, Measured, Measured]
  const [, chatAtRate, , gatewayAtRate] = latency as [Measured, Measured, Measured, Measured]
  const chatVsGateway = ratios(chatStateless, gatewayChat, (result) => result.throughput)
  const cpuVsGateway = chatStateless.cpuPerRequest.map((value, round) =>
    value / (gatewayChat.cpuPerRequest[round] as number))
  const echoVsPeer = ratios(echoSession, peerEcho, (result) => result.throughput)
  const echoStatelessVsPeer = ratios(echoStateless, peerEcho, (result) => result.throughput)
  const p99VsGateway = ratios(chatAtRate, gatewayAtRate, (result) => result.p99)
  const sessionsCost = sessionsRss - idleRss
  return [
    { target: '3. non-streamed `chat` throughput ≥ 1.1× Portkey\'s (stateless JSON)', measured: `${spread(chatVsGateway, 2, '×')}; CPU per call ${spread(chatStateless.cpuPerRequest, 0)} vs ${spread(gatewayChat.cpuPerRequest, 0)} µs (${spread(cpuVsGateway, 2, '×')})`, met: median(chatVsGateway) >= 1.1 },
    { target: '4. no regression: `echo` ≥ 1.5× `server-everything` (sessions, SSE)', measured: `${spread(echoVsPeer, 2, '×')} (stateless: ${spread(echoStatelessVsPeer, 2, '×')})`, met: median(echoVsPeer) >= 1.5 },
    { target: `4. no regression: \`chat\` p99 at ${FIXED_RATE}/s ≤ Portkey's at the same rate`, measured: spread(p99VsGateway, 2, '×'), met: median(p99VsGateway) <= 1 },
    { target: '4. no regression: router RSS after the `chat` load ≤ Portkey\'s after the same load', measured: `${afterLoadRss.router.toFixed(0)} vs ${afterLoadRss.gateway.toFixed(0)} MB (${(afterLoadRss.router / afterLoadRss.gateway).toFixed(2)}×)`, met: afterLoadRss.router <= afterLoadRss.gateway },
    {
      target: `4. no regression: RSS idle / with ${SESSIONS} sessions within 5% of before issue 28's changes (${BEFORE_RSS.idle} / ${BEFORE_RSS.sessions} MB)`,
      measured: `${idleRss.toFixed(0)} / ${sessionsRss.toFixed(0)} MB (+${sessionsCost.toFixed(1)})`,
      met: idleRss <= BEFORE_RSS.idle * 1.05 && sessionsRss <= BEFORE_RSS.sessions * 1.05,
    },
  ]
}

function streamSections ({ settings, byConcurrency }: StreamsReport): string[] {
  return [
    '## Streams',
    '',
    `Side by side, ${settings}. Each run starts all its streams at once, each on a connection of its own, and reads every one to its end, checking the whole answer (for the router: streamed as progress notifications and in the result alike). Server CPU and peak RSS are the serving process's (the upstream's for the upstream alone), from \`/proc\`.`,
    '',
    ...byConcurrency.flatMap(({ concurrency, rows }) => [
      `### ${concurrency} concurrent streams`,
      '',
      '| Target | completed | first text p50 ms | first text p99 ms | server CPU µs/stream | peak RSS MB |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(({ target, rounds }) => `| ${target.name} | ${rounds.map((run) => run.completed).join(', ')} of ${concurrency} | ${spread(rounds.map((run) => run.firstTextP50), 0)} | ${spread(rounds.map((run) => run.firstTextP99), 0)} | ${spread(rounds.map((run) => run.cpuPerStream), 0)} | ${spread(rounds.map((run) => run.peakRssMb), 0)} |`),
      ...buildComparison(rows),
      ...rows.flatMap(({ target, rounds }) => rounds.flatMap((run) => run.failure ? [`\n${target.name}: ${run.streams - run.completed} failed, e.g. \`${run.failure}\``] : []).slice(0, 1)),
      '',
    ]),
  ]
}

/** Each router of this build against the same router of the other build (BENCH_COMPARE), round by round. */
function buildComparison (rows: StreamRow[]): string[] {
  const pairs = rows.filter(({ target }) => target.otherBuild).flatMap((other) => {
    const mine = rows.find(({ target }) => !target.otherBuild && target.kind === 'router' && target.api === other.target.api && target.stateful === other.target.stateful)
    return mine ? [{ mine, other }] : []
  })
  if (pairs.length === 0) return []
  const ratio = (mine: StreamRow, other: StreamRow, pick: (run: StreamsResult) => number) =>
    spread(mine.rounds.map((run, round) => pick(run) / pick(other.rounds[round] as StreamsResult)), 2, '×')
  return [
    '',
    `This build against ${OTHER_BUILD ?? 'the other'}'s, round by round:`,
    '',
    '| Router | CPU per stream | first text p99 | peak RSS |',
    '|---|---:|---:|---:|',
    ...pairs.map(({ mine, other }) => `| ${shortName(mine.target)} | ${ratio(mine, other, (run) => run.cpuPerStream)} | ${ratio(mine, other, (run) => run.firstTextP99)} | ${ratio(mine, other, (run) => run.peakRssMb)} |`),
  ]
}

/** Issue 28's targets 1 and 2, from the streaming runs at 300 and 1,000 streams (or the lowest and highest run). */
function streamTargets ({ byConcurrency }: StreamsReport): TargetRow[] {
  const lowest = byConcurrency[0]
  const highest = byConcurrency.at(-1)
  if (!lowest || !highest) return []
  const portkey = (rows: StreamRow[], api: StreamApi) => rows.find(({ target }) => target.kind === 'portkey' && target.api === api) as StreamRow
  const routers = (rows: StreamRow[]) => rows.filter(({ target }) => target.kind === 'router' && !target.otherBuild)
  /** Each router row's figure over Portkey's on the same API, round by round. */
  const againstPortkey = (rows: StreamRow[], pick: (run: StreamsResult) => number) => routers(rows).map((row) => {
    const other = portkey(rows, row.target.api)
    return { row, ratio: row.rounds.map((run, round) => pick(run) / pick(other.rounds[round] as StreamsResult)) }
  })
  const cpu = againstPortkey(lowest.rows, (run) => run.cpuPerStream)
  const p99 = againstPortkey(highest.rows, (run) => run.firstTextP99)
  const rss = againstPortkey(highest.rows, (run) => run.peakRssMb)
  const incomplete = highest.rows.filter(({ target }) => target.kind !== 'upstream' && !target.otherBuild).map(({ target, rounds }) => ({ target, missing: rounds.reduce((sum, run) => sum + run.streams - run.completed, 0) }))
  const list = (ratios: Array<{ row: StreamRow, ratio: number[] }>) => ratios.map(({ row, ratio }) => `${shortName(row.target)} ${spread(ratio, 2, '×')}`).join('; ')
  return [
    { target: `1. CPU per streamed answer ≤ 0.7× Portkey's (${lowest.concurrency} streams; Portkey on the same API)`, measured: list(cpu), met: cpu.every(({ ratio }) => median(ratio) <= 0.7) },
    { target: `2. ${highest.concurrency} streams: every one completes with its whole answer`, measured: incomplete.map(({ target, missing }) => `${shortName(target)}: ${missing === 0 ? 'all' : `${missing} missing`}`).join('; '), met: incomplete.every(({ missing }) => missing === 0) },
    { target: `2. ${highest.concurrency} streams: router's first-text p99 ≤ Portkey's`, measured: list(p99), met: p99.every(({ ratio }) => median(ratio) <= 1) },
    { target: `2. ${highest.concurrency} streams: router's peak RSS ≤ Portkey's`, measured: list(rss), met: rss.every(({ ratio }) => median(ratio) <= 1) },
  ]
}

function shortName ({ kind, api, stateful }: StreamTarget): string {
  const apiName = api === 'responses' ? 'Responses' : 'Chat Completions'
  return kind === 'router' ? `${apiName} ${stateful ? 'session' : 'stateless'}` : `${kind === 'portkey' ? 'Portkey' : 'upstream'} ${apiName}`
}

function errors (row: Measured): number {
  return row.rounds.reduce((sum, result) => sum + result.errors, 0)
}
