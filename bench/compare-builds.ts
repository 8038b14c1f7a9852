/**
 * `node --import tsx bench/compare-builds.ts <other checkout>`: this checkout's build against
 * another's (each `npm run build` first), as router processes of their own in front of the same
 * upstream process. Each scenario runs in rounds, the two builds back to back within a round and
 * in alternating order (A B, B A, …), so a shared machine's drifting load weighs on both alike;
 * prints each round's req/s and the ratio this/other per scenario, its median and range, and the
 * routers' CPU time per request (user + system, from /proc), which other load on the machine
 * sways far less than throughput.
 * BENCH_DURATION_S (5) and BENCH_ROUNDS (4) set the length; BENCH_SCENARIOS a comma-separated
 * subset of the scenario names; BENCH_ROUTER_NODE_OPTIONS Node flags for both routers (a profile).
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { BUILT_ENTRY, type RouterProcess, whenReady } from '../test/support/router-process.js'
import { httpLoad } from './load.js'
import { cpuMs, MCP_HEADERS, openSession, startUpstreamProcess, toolCall } from './servers.js'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const CLIENTS = 16

const otherRoot = process.argv[2]
if (!otherRoot) throw new Error('usage: bench/compare-builds.ts <path of the checkout to compare with>')

interface Build { name: string, root: string }
const builds: Build[] = [{ name: 'this', root: resolve('.') }, { name: 'other', root: resolve(otherRoot) }]

const upstream = await startUpstreamProcess()
const routers: RouterProcess[] = []

/** A router from `build`'s dist/ (and its node_modules), started from its root as `npm start` would be. */
async function startBuild ({ root }: Build, env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, [resolve(root, BUILT_ENTRY)], {
    cwd: root,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: upstream.baseURL, UPSTREAM_MAX_RETRIES: '0', READY_CHECK_UPSTREAM: 'false', NODE_OPTIONS: process.env.BENCH_ROUTER_NODE_OPTIONS ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const started = await whenReady(child, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, `the ${root} router to listen`)
  const router = { ...started, port: Number(started.ready[1]) }
  routers.push(router)
  return router
}

interface Scenario {
  name: string
  /** Per build: the URL and the headers its load is sent with. */
  targets: { router: RouterProcess, url: string, headers: Record<string, string> }[]
  body: (id: number) => string
}

try {
  const stateless = await Promise.all(builds.map((build) => startBuild(build, { MCP_SESSIONS: 'stateless' })))
  const stateful = await Promise.all(builds.map((build) => startBuild(build, { MCP_SESSIONS: 'stateful' })))
  const mcpUrl = (router: RouterProcess) => `http://127.0.0.1:${router.port}/mcp`
  const statelessTargets = stateless.map((router) => ({ router, url: mcpUrl(router), headers: MCP_HEADERS }))
  const statefulTargets = await Promise.all(stateful.map(async (router) => ({ router, url: mcpUrl(router), headers: { ...MCP_HEADERS, 'mcp-session-id': await openSession(mcpUrl(router)) } })))
  const echo = toolCall('echo', { text: 'hello' })
  const chat = toolCall('chat', { prompt: 'hello' })
  const all: Scenario[] = [
    { name: 'echo-stateless', targets: statelessTargets, body: echo },
    { name: 'echo-stateful', targets: statefulTargets, body: echo },
    { name: 'chat-stateless', targets: statelessTargets, body: chat },
  ]
  const wanted = process.env.BENCH_SCENARIOS?.split(',')
  const scenarios = wanted ? all.filter(({ name }) => wanted.includes(name)) : all
  const load = ({ url, headers }: Scenario['targets'][number], body: Scenario['body'], durationS: number) =>
    httpLoad({ url, body, headers, connections: CLIENTS, durationS })

  // Warm-up: JIT, connection pools, lazily built state, in every router.
  for (const { targets, body } of scenarios) for (const target of targets) await load(target, body, 2)

  const lines = [`${DURATION_S} s per run, ${CLIENTS} connections, ${ROUNDS} rounds, the ratios this/other: median (range); per round this | other`, '']
  for (const { name, targets, body } of scenarios) {
    const throughputRatios: number[] = []
    const cpuRatios: number[] = []
    const rounds: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0]
      const throughput: number[] = []
      const cpuPerRequest: number[] = []
      for (const index of order) {
        const target = targets[index] as Scenario['targets'][number]
        const pid = target.router.process.pid as number
        const cpuBefore = await cpuMs(pid)
        const result = await load(target, body, DURATION_S)
        if (result.errors > 0) throw new Error(`${name}: ${result.errors} errors from ${builds[index]?.name}`)
        throughput[index] = result.throughput
        cpuPerRequest[index] = (await cpuMs(pid) - cpuBefore) * 1000 / result.requests
      }
      const [mine = 0, theirs = 0] = throughput
      const [myCpu = 0, theirCpu = 0] = cpuPerRequest
      throughputRatios.push(mine / theirs)
      cpuRatios.push(myCpu / theirCpu)
      rounds.push(`${mine.toFixed(0)} | ${theirs.toFixed(0)} req/s, ${myCpu.toFixed(0)} | ${theirCpu.toFixed(0)} µs CPU/req`)
      process.stderr.write(`${name} round ${round + 1}: ${rounds.at(-1)}\n`)
    }
    lines.push(`${name}: req/s ${spread(throughputRatios)}, CPU/req ${spread(cpuRatios)}; ${rounds.join('; ')}`)
  }
  process.stdout.write(`${lines.join('\n')}\n`)
} finally {
  await Promise.all([upstream, ...routers].map((child) => child.kill()))
}

/** `median (min..max)` of ratios. */
function spread (ratios: number[]): string {
  const sorted = ratios.toSorted((a, b) => a - b)
  const middle = sorted.length / 2
  const median = sorted.length % 2 === 1
    ? sorted[Math.floor(middle)] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  return `${median.toFixed(3)} (${sorted[0]?.toFixed(3)}..${sorted.at(-1)?.toFixed(3)})`
}
