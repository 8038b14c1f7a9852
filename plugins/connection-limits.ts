import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * How long a connection may take to deliver a request, how long it may sit idle between
 * requests, and how many may be open: a client sending headers and then nothing (or a byte at a
 * time) would otherwise hold a socket, and a file descriptor, forever.
 *
 * Only receiving is timed: a response may stream for as long as it needs (SSE streams, long tool
 * calls), as Node's request timeout stops counting once the whole request has arrived.
 */
async function connectionLimitsPlugin (fastify: FastifyInstance) {
  const { config, server } = fastify
  server.requestTimeout = config.REQUEST_TIMEOUT_MS
  server.headersTimeout = config.HEADERS_TIMEOUT_MS
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS
  // Past it Node closes new connections at once, before they cost more than their accept.
  const openFiles = openFileLimit()
  server.maxConnections = connectionCap(config.MAX_CONNECTIONS, openFiles)
  if (server.maxConnections < config.MAX_CONNECTIONS) {
    fastify.log.info({ maxConnections: server.maxConnections }, `MAX_CONNECTIONS lowered to ${server.maxConnections}: this process may open ${openFiles} files (ulimit -n), and upstream calls, Redis and files need some`)
  }
  const perAddress = config.MAX_CONNECTIONS_PER_ADDRESS
  if (perAddress > 0) server.on('connection', limitPerAddress(perAddress))
}

/** Descriptors kept back from client connections: upstream connections, Redis, read_file, the log. */
const DESCRIPTOR_HEADROOM = 64

/**
 * The connection cap that still leaves descriptors for the router's own work: a cap above the
 * open-file limit would never apply, and a flood would exhaust descriptors (EMFILE) instead.
 */
function connectionCap (configured: number, openFiles: number | undefined): number {
  return openFiles === undefined ? configured : Math.max(1, Math.min(configured, openFiles - DESCRIPTOR_HEADROOM))
}

/** This process's soft limit on open files, where the system says (Linux); undefined elsewhere or unlimited. */
function openFileLimit (): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return line ? Number(line[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * Closes a connection at once when its address already holds `limit` open ones: one host cannot
 * take every connection.
 */
function limitPerAddress (limit: number): (socket: Socket) => void {
  const open = new Map<string, number>()
  return (socket) => {
    const address = socket.remoteAddress ?? ''
    const count = open.get(address) ?? 0
    if (count >= limit) {
      socket.destroy()
      return
    }
    open.set(address, count + 1)
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1
      if (left === 0) open.delete(address)
      else open.set(address, left)
    })
  }
}

export default fp(connectionLimitsPlugin, { name: 'connection-limits', dependencies: ['config'] })
