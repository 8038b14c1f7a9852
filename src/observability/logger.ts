import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'

const secretFields = ['authorization', 'cookie', 'x-api-key', 'apiKey', 'api_key', 'token', 'password', 'secret', 'OPENAI_API_KEY']
const SECRET_FIELDS = new Set(secretFields)
const CENSOR = '[redacted]'

/**
 * Exact paths pino redacts: secret fields at the top of a line, in request headers, and in a
 * logged error (after pino's error serializer). One level down anywhere else is
 * {@link redactNested}'s: pino's wildcard paths cost ~1.7 µs each on every line (measured: 34 µs
 * a line for the 18 the router needed, against 2 µs for the whole line without them).
 */
const redactedPaths = secretFields.flatMap((field) => {
  const quoted = field.includes('-')
  const key = quoted ? `["${field}"]` : `.${field}`
  return [quoted ? key : field, `req.headers${key}`, `err${key}`, `err.headers${key}`]
})

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error)

/**
 * `object` with its secret-named fields censored, and those of the objects it descends into: at
 * the top of a line every object field, one level down only `headers`. The same object when
 * nothing was censored; otherwise a copy, so the caller's objects are never changed.
 */
function censor (object: Record<string, unknown>, level: number): Record<string, unknown> {
  let result = object
  for (const key in object) {
    const value = object[key]
    const descends = level === 0 || (level === 1 && key === 'headers')
    const replacement = SECRET_FIELDS.has(key) ? CENSOR : descends && isObject(value) ? censor(value, level + 1) : value
    if (replacement === value) continue
    if (result === object) result = { ...object }
    result[key] = replacement
  }
  return result
}

/**
 * Censors secret-named fields one level down in a log line (`{ provider: { apiKey } }`) and in
 * `headers` one level down (`{ upstream: { headers: { authorization } } }`), as pino's `*.field`
 * and `*.headers.field` paths did. A clean line costs a few key lookups and is not copied.
 */
export function redactNested (line: Record<string, unknown>): Record<string, unknown> {
  return censor(line, 0)
}

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
 * developer asks for it with NODE_ENV=development (the one thing NODE_ENV decides); written to
 * `output`, stderr when stdout carries the MCP protocol (`--stdio`).
 */
export function loggerOptions (env: Record<string, string | undefined>, output: 'stdout' | 'stderr' = 'stdout'): FastifyServerOptions['logger'] {
  return {
    level: 'info',
    redact: { paths: redactedPaths, censor: CENSOR },
    formatters: { log: redactNested },
    ...(env.NODE_ENV === 'development'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: output === 'stderr' ? 2 : 1 } } }
      : output === 'stderr' && { stream: process.stderr }),
  }
}
