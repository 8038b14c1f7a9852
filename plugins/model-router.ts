import { unwatchFile, watchFile } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { reloadOnHangup } from '../src/reload-on-hangup.js'
import { ModelRouter } from '../src/routing/model-router.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The providers (their clients hold the keys; clients never see them) and the routing table in force. */
    modelRouter: ModelRouter
  }
}

// ConfigMaps are swapped in through a symlink: polling the path sees that where fs.watch may not.
const WATCH_INTERVAL_MS = 1000

export interface ModelRouterPluginOptions {
  /** The time circuit breakers open and cool down by; unset: Date.now. */
  clock?: () => number
}

async function modelRouterPlugin (fastify: FastifyInstance, { clock = Date.now }: ModelRouterPluginOptions) {
  const { config, metrics, log } = fastify
  const router = new ModelRouter(
    config.routing,
    {
      metrics,
      log,
      checkTtlMs: config.READY_CHECK_TTL_MS,
      modelsTtlMs: config.MODELS_CACHE_TTL_MS,
      maxBodyBytes: config.UPSTREAM_MAX_BODY_BYTES,
      clock,
    },
    config.reloadRouting,
    log
  )
  fastify.decorate('modelRouter', router)
  router.warmUp()

  const file = config.ROUTER_CONFIG
  // Without the file there is nothing to reload (the entry point then ignores SIGHUP).
  if (!file) return
  reloadOnHangup(fastify, () => router.reload('SIGHUP'))
  if (!config.ROUTER_CONFIG_WATCH) return
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs !== previous.mtimeMs) router.reload('file changed').catch(() => {})
  }
  watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange)
  fastify.addHook('onClose', async () => { unwatchFile(file, onChange) })
}

export default fp(modelRouterPlugin, { name: 'model-router', dependencies: ['config', 'metrics'] })
