import type { FastifyServerOptions } from 'fastify'

/** Header names and fields that may hold a secret; their values never reach a log line. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'OPENAI_API_KEY',
  '*.OPENAI_API_KEY',
  'config.OPENAI_API_KEY',
]

/**
 * pino options for the router: JSON lines, secrets redacted, and pretty output only when a
 * developer asks for it with NODE_ENV=development (the one thing NODE_ENV decides).
 */
export function loggerOptions (env: Record<string, string | undefined>): FastifyServerOptions['logger'] {
  return {
    level: 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    ...(env.NODE_ENV === 'development' && {
      transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    }),
  }
}
