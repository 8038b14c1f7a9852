import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { Socket } from 'node:net'
import { freePort } from './ports.js'

/** Whether Debian's redis-server is installed (`.ci/run` installs it; a developer machine may lack it). */
export const redisAvailable = spawnSync('redis-server', ['--version']).status === 0

/**
 * Why Redis tests are skipped, or false when they run. In CI a missing redis-server is a failure,
 * never a silent skip.
 */
export const skipWithoutRedis: string | false = redisAvailable || process.env.CI ? false : 'redis-server is not installed (apt-get install redis-server; CI installs it)'

/**
 * Tests give Redis commands far longer than production's default: on a loaded machine a command
 * can take more than 500 ms, and a request that falls back to local state breaks a shared count.
 */
export const REDIS_TEST_COMMAND_TIMEOUT_MS = 5000

/** A real redis-server on a free loopback port, without persistence, which tests can stop and start again. */
export class RedisServer {
  #process: ChildProcess | undefined

  private constructor (readonly port: number) {}

  static async start (): Promise<RedisServer> {
    const server = new RedisServer(await freePort())
    await server.start()
    return server
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The settings that point a router at this server. */
  get routerEnv (): { REDIS_URL: string, REDIS_COMMAND_TIMEOUT_MS: string } {
    return { REDIS_URL: this.url, REDIS_COMMAND_TIMEOUT_MS: String(REDIS_TEST_COMMAND_TIMEOUT_MS) }
  }

  async start (): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' })
    this.#process = child
    const deadline = Date.now() + 30_000
    while (!await answersPing(this.port)) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      if (Date.now() > deadline) throw new Error('redis-server did not answer within 30 s')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async stop (): Promise<void> {
    const child = this.#process
    if (!child || child.exitCode !== null) return
    child.kill('SIGKILL')
    await once(child, 'exit')
  }
}

async function answersPing (port: number): Promise<boolean> {
  const socket = new Socket()
  try {
    socket.connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write('PING\r\n')
    const [data] = await once(socket, 'data') as [Buffer]
    return data.toString().startsWith('+PONG')
  } catch {
    return false
  } finally {
    socket.destroy()
  }
}
