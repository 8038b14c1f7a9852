import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { BUILD_OUTPUT } from '../../scripts/build-if-stale.js'
import { waitFor } from './wait-for.js'

/** The sources' entry point, run through tsx; benchmarks run the build (`dist/src/server.js`), as a container does. */
export const SOURCE_ENTRY = 'src/server.ts'
/** The build's entry point, as `npm start` and the image run it: it starts in a fraction of tsx's time. */
export const BUILT_ENTRY = BUILD_OUTPUT

/** Builds dist/ if its sources changed since (a no-op under `npm test`, whose pretest builds first). */
export function buildIfStale (): void {
  const { status } = spawnSync(process.execPath, ['scripts/build-if-stale.ts'], { stdio: 'inherit' })
  if (status !== 0) throw new Error(`building dist/ failed with exit code ${status}`)
}

/** The entry point as its own process. */
export function spawnRouter (env: Record<string, string>, entry = SOURCE_ENTRY): ChildProcess {
  return spawn(process.execPath, entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry], {
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
    await waitFor(() => ready.test(output) || child.exitCode !== null, what, 20_000)
  } catch (err) {
    await kill()
    throw err
  }
  const match = ready.exec(output)
  if (!match) throw new Error(`${what}: it exited with ${child.exitCode}: ${output}`)
  child.stdout?.off('data', collect).resume()
  child.stderr?.off('data', collect).resume()
  return { process: child, ready: match, kill }
}

export interface RouterProcess extends ReadyProcess {
  readonly port: number
}

/** A router process listening on a free loopback port, once it says so. */
export async function startRouterProcess (env: Record<string, string>, entry = SOURCE_ENTRY): Promise<RouterProcess> {
  const started = await whenReady(spawnRouter({ PORT: '0', HOST: '127.0.0.1', ...env }, entry), /Server listening at http:\/\/127\.0\.0\.1:(\d+)/, 'the router process to listen')
  return { ...started, port: Number(started.ready[1]) }
}
