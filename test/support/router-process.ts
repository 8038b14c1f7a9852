import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { BUILD_OUTPUT } from '../../scripts/build-if-stale.js'
import { waitFor } from './wait-for.js'

/**
 * The build, as `npm start` and the image run it. Child routers start from it rather than through
 * tsx, whose compile on start took 20 s and more on a loaded machine.
 */
export const BUILT_ENTRY = BUILD_OUTPUT

/**
 * Longest a child process may take to say it is ready: generous, since a loaded 2-core machine is
 * slow to start one.
 */
const READY_TIMEOUT_MS = 60_000

let built = false

/**
 * Builds dist/ if its sources changed since (a no-op under `npm test`, whose pretest builds first);
 * once per test process.
 */
export function buildIfStale (): void {
  if (built) return
  const { status } = spawnSync(process.execPath, ['scripts/build-if-stale.ts'], { stdio: 'inherit' })
  if (status !== 0) throw new Error(`building dist/ failed with exit code ${status}`)
  built = true
}

/** The entry point as its own process. */
export function spawnRouter (env: Record<string, string>): ChildProcess {
  buildIfStale()
  return spawn(process.execPath, [BUILT_ENTRY], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export interface ReadyProcess {
  readonly process: ChildProcess
  /** What its output matched when it said it was ready. */
  readonly ready: RegExpExecArray
  /** Ends it at once, as a crashed or evicted pod ends: no drain. */
  kill: () => Promise<void>
}

/**
 * A spawned process (stdout and stderr piped), once its output matches `ready`; killed if it
 * exits or stays silent first. Its later output is drained, not kept: a long-running server (a
 * benchmark) writes far more than anyone reads.
 */
export async function whenReady (child: ChildProcess, ready: RegExp, what: string): Promise<ReadyProcess> {
  let output = ''
  const collect = (chunk: Buffer) => { output += chunk }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
  }
  try {
    const settled = () => ready.test(output) || child.exitCode !== null || child.signalCode !== null
    await waitFor(settled, what, READY_TIMEOUT_MS)
  } catch (err) {
    await kill()
    throw err
  }
  const match = ready.exec(output)
  if (!match) throw new Error(`${what}: it exited with ${child.exitCode ?? child.signalCode}: ${output}`)
  child.stdout?.off('data', collect).resume()
  child.stderr?.off('data', collect).resume()
  return { process: child, ready: match, kill }
}

export interface RouterProcess extends ReadyProcess {
  readonly port: number
}

/** A router process listening on a free loopback port, once it says so. */
export async function startRouterProcess (env: Record<string, string>): Promise<RouterProcess> {
  const started = await whenReady(spawnRouter({ PORT: '0', HOST: '127.0.0.1', ...env }), /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, 'the router process to listen')
  return { ...started, port: Number(started.ready[1]) }
}
