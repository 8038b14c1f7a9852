import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import OpenAI from 'openai'

declare module 'fastify' {
  interface FastifyInstance {
    /** The one upstream client, holding the router's key; tools receive it, clients never see the key. */
    openai: OpenAI
  }
}

async function openaiPlugin (fastify: FastifyInstance) {
  const { config } = fastify
  fastify.decorate('openai', new OpenAI({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    timeout: config.UPSTREAM_TIMEOUT_MS,
    // Retries are the router's own (callUpstream), in one place, aware of what the client has already seen.
    maxRetries: 0,
    // The SDK logs to the console by default; the router's own log lines already cover each call.
    logLevel: 'off',
  }))
}

export default fp(openaiPlugin, { name: 'openai', dependencies: ['config'] })
