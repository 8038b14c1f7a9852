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
  const key = field.includes('-') ? `["${field}"]` : `.${field}`
  return [field.includes('-') ? `["${field}"]` : field, `req.headers${key}`, `err${key}`, `err.headers${key}`]
})

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error)

/** `object` with its secret-named fields censored (and those of its `headers`, when `withHeaders`); the same object when it has none. */
function censorFields (object: Record<string, unknown>, withHeaders: boolean): Record<string, unknown> {
  let result = object
  for (const key in object) {
    const value = object[key]
    const replacement = SECRET_FIELDS.has(key)
      ? CENSOR
      : withHeaders && key === 'headers' && isObject(value) ? censorFields(value, false) : value
    if (replacement === value) continue
    if (result === object) result = { ...object }
    result[key] = replacement
  }
  return result
}

/**
 * Censors secret-named fields one level down in a log line (`{ provider: { apiKey } }`) and in
 * `headers` one level down (`{ upstream: { headers: { authorization } } }`). Copies only what it
 * censors: the caller's objects are never changed, and a clean line costs a few key lookups.
 */
export function redactNested (line: Record<string, unknown>): Record<string, unknown> {
  let result = line
  for (const key in line) {
    const value = line[key]
    if (!isObject(value)) continue
    const cleaned = censorFields(value, true)
    if (cleaned === value) continue
    if (result === line) result = { ...line }
    result[key] = cleaned
  }
  return result
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
 * developer asks for it with NODE_ENV=development (the one thing NODE_ENV decides).
 */
export function loggerOptions (env: Record<string, string | undefined>): FastifyServerOptions['logger'] {
  return {
    level: 'info',
    redact: { paths: redactedPaths, censor: CENSOR },
    formatters: { log: redactNested },
    ...(env.NODE_ENV === 'development' && {
      transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    }),
  }
}
