import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { waitFor } from './wait-for.js'

/** The sources' entry point, run through tsx; benchmarks run the build (`dist/src/server.js`), as a container does. */
export const SOURCE_ENTRY = 'src/server.ts'

/** The entry point as its own process. */
export function spawnRouter (env: Record<string, string>, entry = SOURCE_ENTRY): ChildProcess {
  return spawn(process.execPath, entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export interface RouterProcess {
  readonly process: ChildProcess
  readonly port: number
  /** Ends it at once, as a crashed or evicted pod ends: no drain. */
  kill: () => Promise<void>
}

/** A router process listening on a free loopback port, once it says so; its later output is discarded. */
export async function startRouterProcess (env: Record<string, string>, entry = SOURCE_ENTRY): Promise<RouterProcess> {
  const child = spawnRouter({ PORT: '0', HOST: '127.0.0.1', ...env }, entry)
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
    await waitFor(() => /Server listening at http:\/\/127\.0\.0\.1:\d+/.test(output) || child.exitCode !== null, 'the router process to listen', 20_000)
  } catch (err) {
    await kill()
    throw err
  }
  const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
  if (!port) throw new Error(`the router process exited with ${child.exitCode}: ${output}`)
  // A long-running router (a benchmark) logs far more than anyone reads: keep draining, stop keeping.
  child.stdout?.off('data', collect)
  child.stderr?.off('data', collect)
  child.stdout?.resume()
  child.stderr?.resume()
  return { process: child, port: Number(port), kill }
}
