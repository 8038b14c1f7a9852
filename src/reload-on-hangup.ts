import type { FastifyInstance } from 'fastify'

/**
 * Runs `reload` on every SIGHUP while the app is open. `reload` reports its own failures (the
 * previous configuration stays), so nothing is left to catch here.
 */
export function reloadOnHangup (fastify: FastifyInstance, reload: () => Promise<unknown>): void {
  const onHangup = () => { reload().catch(() => {}) }
  process.on('SIGHUP', onHangup)
  fastify.addHook('onClose', async () => { process.off('SIGHUP', onHangup) })
}
