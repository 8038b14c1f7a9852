import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'

const secretFields = ['authorization', 'cookie', '"x-api-key"', 'apiKey', 'api_key', 'token', 'password', 'secret', 'OPENAI_API_KEY']

/**
 * Fields that may hold a secret, at the top of a log line, one level down, and in request headers;
 * their values never reach a log. Bodies (LOG_BODIES) are cleaned before they are logged.
 */
export const redactedPaths = [
  ...secretFields,
  ...secretFields.map((field) => `*.${field}`),
  ...secretFields.map((field) => `req.headers.${field}`),
  ...secretFields.map((field) => `*.headers.${field}`),
]

/**
 * One line per HTTP request, written when it completes (no "incoming request" line). MCP
 * messages that reached the MCP server have their own line, with more in it (see McpMessageLog),
 * so their HTTP request adds none.
 */
export class RouterLogController extends LogController {
  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (request.method === 'POST' && request.routeOptions.url === '/mcp' && reply.statusCode < 400 && !error) return
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
  }
}

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
