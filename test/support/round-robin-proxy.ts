import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP load balancer in miniature: each connection goes to the next backend in turn, and to
 * the one after when a backend refuses it (as a balancer drops a dead endpoint). It knows
 * nothing of HTTP or MCP, so whatever works through it works behind any L4 balancer.
 */
export class RoundRobinProxy {
  readonly #sockets = new Set<Socket>()
  #next = 0
  /** How many connections each backend has taken, by port. */
  readonly connections = new Map<number, number>()

  private constructor (private readonly server: Server, private readonly backends: number[]) {}

  static async start (backends: number[]): Promise<RoundRobinProxy> {
    const server = createServer()
    const proxy = new RoundRobinProxy(server, backends)
    server.on('connection', (client) => proxy.#forward(client))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return proxy
  }

  get url (): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`
  }

  #forward (client: Socket, attempt = 0): void {
    this.#track(client)
    client.pause()
    if (attempt === this.backends.length) {
      client.destroy()
      return
    }
    const port = this.backends[this.#next++ % this.backends.length] as number
    const backend = createConnection({ port, host: '127.0.0.1' })
    let connected = false
    backend.on('error', () => {
      // Refused before a byte went through: the client never knows, the next backend takes it.
      if (!connected && !client.destroyed) return this.#forward(client, attempt + 1)
      client.destroy()
    })
    backend.once('connect', () => {
      connected = true
      this.#track(backend)
      this.connections.set(port, (this.connections.get(port) ?? 0) + 1)
      client.pipe(backend).pipe(client)
      client.resume()
      backend.once('close', () => client.destroy())
      client.once('close', () => backend.destroy())
      client.on('error', () => backend.destroy())
    })
  }

  #track (socket: Socket): void {
    if (this.#sockets.has(socket)) return
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
  }

  async close (): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    this.server.close()
    await once(this.server, 'close')
  }
}
