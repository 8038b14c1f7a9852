import fastifyEnv from '@fastify/env'
import type { TSchema } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConfigSchema, configAjv, deriveConfig, invalidSettings, type RouterConfig, type ValidatedEnv, withoutEmptyValues } from '../src/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The configuration, validated and derived once at start-up (src/config.ts). */
    config: RouterConfig
  }
}

export interface ConfigPluginOptions {
  /** The environment to read: `process.env` in production, a plain object in tests. */
  env: Record<string, string | undefined>
}

/**
 * Validates the environment with @fastify/env against the TypeBox schema, derives the configuration
 * from it once, and decorates the app with it. @fastify/env decorates the raw settings in a scope
 * of its own, so only the derived configuration is visible to the rest of the app.
 */
async function configPlugin (fastify: FastifyInstance, options: ConfigPluginOptions) {
  const env = withoutEmptyValues(options.env)
  let settings: ValidatedEnv | undefined
  try {
    await fastify.register(async (scope) => {
      await scope.register(fastifyEnv, { confKey: 'settings', schema: ConfigSchema as TSchema, data: env, env: false, ajv: configAjv })
      settings = (scope as unknown as { settings: ValidatedEnv }).settings
    })
  } catch (err) {
    throw invalidSettings(err)
  }
  fastify.decorate('config', await deriveConfig(settings as ValidatedEnv, env))
  // The logger exists before the configuration does; apply the validated level once here.
  fastify.log.level = fastify.config.LOG_LEVEL
}

export default fp(configPlugin, { name: 'config' })
