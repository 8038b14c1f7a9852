import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify'
import { stdSerializers } from 'pino'
import { boundedText } from '../bounded-text.js'

const secretFields = ['authorization', 'cookie', 'x-api-key', 'apiKey', 'api_key', 'token', 'password', 'secret', 'OPENAI_API_KEY']
const SECRET_FIELDS = new Set(secretFields)
const CENSOR = '[redacted]'

/**
 * Exact paths pino redacts: secret fields at the top of a line, in request headers, and in a
 * logged error (after pino's error serializer). One level down anywhere else is
 * {@link cleanLogLine}'s: pino's wildcard paths are tried on every line and cost many times the
 * line itself (the figures are in docs/performance.md).
 */
const redactedPaths = secretFields.flatMap((field) => {
  const quoted = field.includes('-')
  const key = quoted ? `["${field}"]` : `.${field}`
  return [quoted ? key : field, `req.headers${key}`, `err${key}`, `err.headers${key}`]
})

/**
 * The longest string a log line carries in any field, its message or its error: a client's
 * method name, tool name, request id or header may be a megabyte, and a line must stay a line.
 */
export const MAX_LOG_STRING_CHARS = 2000

// Bodies (LOG_BODIES) are bounded by their own setting, LOG_BODY_MAX_CHARS, or logged whole by choice.
const BODY_FIELDS = new Set(['arguments', 'result'])

const bounded = (text: string) => boundedText(text, MAX_LOG_STRING_CHARS)

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Error)

/**
 * `object` with its secret-named fields censored and its long strings cut, and those of the
 * objects it descends into: at the top of a line every object field, one level down only
 * `headers`. Strings are cut at the top and in plain objects only: cutting one in a class
 * instance (a request) would copy it without its prototype. The same object when nothing
 * changed; otherwise a copy, so the caller's objects are never changed.
 */
function clean (object: Record<string, unknown>, level: number): Record<string, unknown> {
  const cuts = level === 0 || Object.getPrototypeOf(object) === Object.prototype
  let result = object
  for (const key in object) {
    const value = object[key]
    const descends = level === 0 || (level === 1 && key === 'headers')
    const replacement = SECRET_FIELDS.has(key)
      ? CENSOR
      : typeof value === 'string'
        ? cuts && value.length > MAX_LOG_STRING_CHARS && !(level === 0 && BODY_FIELDS.has(key)) ? bounded(value) : value
        : descends && isObject(value) ? clean(value, level + 1) : value
    if (replacement === value) continue
    if (result === object) result = { ...object }
    result[key] = replacement
  }
  return result
}

/**
 * A log line's fields as written: secret-named fields censored at the top, one level down
 * (`{ provider: { apiKey } }`) and in `headers` one level down (`{ upstream: { headers: {
 * authorization } } }`), as pino's `*.field` and `*.headers.field` paths did, and strings there
 * cut to {@link MAX_LOG_STRING_CHARS}. A clean line costs a few key lookups and is not copied.
 */
export function cleanLogLine (line: Record<string, unknown>): Record<string, unknown> {
  return clean(line, 0)
}

/**
 * The fields pino serializes itself, bounded too: the message, and a logged error (whose message
 * and stack may quote a client's input). A request's URL and Host, as Fastify logs them, are
 * bounded by Node's limit on a request's headers (16 KB).
 */
const boundedSerializers = {
  msg: (msg: unknown) => typeof msg === 'string' ? bounded(msg) : msg,
  err: (err: Error) => {
    // A thrown value need not be an Error: pino's serializer passes anything else on as it is,
    // and leaves out the message or stack an object does not have.
    const serialized = stdSerializers.err(err)
    const thrown: unknown = serialized
    if (typeof thrown === 'string') return bounded(thrown) as unknown as typeof serialized
    if (!isObject(thrown)) return serialized
    const { type, message, stack, ...rest } = serialized
    return {
      ...cleanLogLine(rest),
      type,
      message: typeof message === 'string' ? bounded(message) : message,
      stack: typeof stack === 'string' ? bounded(stack) : stack,
    }
  },
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
    serializers: boundedSerializers,
    formatters: { log: cleanLogLine, bindings: cleanLogLine },
    ...(env.NODE_ENV === 'development'
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: output === 'stderr' ? 2 : 1 } } }
      : output === 'stderr' && { stream: process.stderr }),
  }
}
