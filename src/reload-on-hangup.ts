import type { FastifyBaseLogger, FastifyInstance } from 'fastify'

/**
 * Runs `reload` on every SIGHUP while the app is open. `reload` reports its own failures (the
 * previous configuration stays), so nothing is left to catch here.
 */
export function reloadOnHangup (fastify: FastifyInstance, reload: () => Promise<unknown>): void {
  const onHangup = () => { reload().catch(() => {}) }
  process.on('SIGHUP', onHangup)
  fastify.addHook('onClose', async () => { process.off('SIGHUP', onHangup) })
}

/**
 * Keeps SIGHUP from ending the process, Node's default for it, whenever no file reloads on it:
 * neither ROUTER_CONFIG nor CLIENT_KEYS_FILE is set, or the app is still starting or already
 * closing. Installed before the app is built, so an operator's reload sent too early costs nothing;
 * the log (once there is one) says it was ignored.
 */
export function ignoreHangupWithoutReload (log: () => FastifyBaseLogger | undefined): void {
  process.on('SIGHUP', () => {
    const reloads = process.listenerCount('SIGHUP') - 1
    if (reloads === 0) log()?.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: nothing to reload now (neither ROUTER_CONFIG nor CLIENT_KEYS_FILE is set, or the router is starting or closing)')
  })
}
