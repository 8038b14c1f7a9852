import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { waitFor } from './wait-for.js'

/** The entry point (`src/server.ts`) as its own process, as a container runs it. */
export function spawnRouter (env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export interface RouterProcess {
  readonly process: ChildProcess
  readonly port: number
  /** Everything it has written to stdout so far (its JSON log lines). */
  readonly output: () => string
  /** Ends it at once, as a crashed or evicted pod ends: no drain. */
  kill: () => Promise<void>
}

/** A router process listening on a free loopback port, once it says so. */
export async function startRouterProcess (env: Record<string, string>): Promise<RouterProcess> {
  const child = spawnRouter({ PORT: '0', HOST: '127.0.0.1', ...env })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk })
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
  return { process: child, port: Number(port), output: () => output, kill }
}
