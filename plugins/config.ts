import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { RouterConfig } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The configuration, validated and derived once at start-up (src/config.ts). */
    config: RouterConfig
  }
}

export interface ConfigPluginOptions {
  /** The configuration `loadConfig` read from the environment. */
  config: RouterConfig
}

async function configPlugin (fastify: FastifyInstance, { config }: ConfigPluginOptions) {
  fastify.decorate('config', config)
  // The logger exists before the configuration does; apply the validated level once here.
  fastify.log.level = config.LOG_LEVEL
}

export default fp(configPlugin, { name: 'config' })
