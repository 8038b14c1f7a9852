import { randomUUID } from 'node:crypto'
import type { RequestId } from '@modelcontextprotocol/server'
import { type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api'
import type { FastifyBaseLogger } from 'fastify'
import type { RouterKeys } from '../access/router-keys.js'
import { CallRecord } from '../observability/call-record.js'
import type { BodyLogging } from '../observability/log-bodies.js'
import type { RouterMetrics } from '../observability/metrics.js'
import { traceContextOf } from '../observability/tracing.js'
import type { ClassifiedMessage, ClassifiedRequest } from './http/classified-message.js'

export interface MessageLogDependencies {
  log: FastifyBaseLogger
  metrics: RouterMetrics
  tracer: Tracer
  bodies: BodyLogging
  /** The router's own keys, which its transport removes from every message it sends. */
  keys: RouterKeys
}

interface PendingRequest {
  method: string
  requestId: string
  started: number
  span: Span
  arguments: unknown
  record?: CallRecord
}

interface FinishDetails {
  rpcErrorCode?: number
  error?: string
  result?: unknown
}

// JSON-RPC's reserved internal error: a failure of the router itself, worth an error-level line.
const INTERNAL_ERROR = -32603
// Clients of a newer protocol (Vercel AI SDK 7, Mastra: MCP SDK v2) probe with server/discover and
// fall back to initialize when it fails: that failure is expected on every connect, not a warning.
const PROBES = new Set(['server/discover'])

/**
 * One log line, one metric and one span per MCP message an MCP server handles (requests when their
 * response leaves, notifications as they arrive), carrying what a `tools/call` did. One per server,
 * fed by its transport's adapter (transport-adapter.ts).
 */
export class McpMessageLog {
  readonly #pending = new Map<RequestId, PendingRequest>()

  constructor (private readonly deps: MessageLogDependencies) {}

  get keys (): RouterKeys {
    return this.deps.keys
  }

  /** Requests received and not yet answered: calls still running, whatever connection they came on. */
  get pending (): number {
    return this.#pending.size
  }

  /**
   * A message arrived, in the HTTP request `requestId` names, with these headers (the trace
   * parent). A request no HTTP request carried (over stdio) gets an id of its own, which its
   * tool call then logs and sends upstream ({@link requestIdOf}).
   */
  received (message: ClassifiedMessage, headers: Headers, requestId?: string): void {
    if (message.kind === 'request') this.#pending.set(message.id, this.#start(message, headers, requestId))
    else this.#writeUnanswered(message, 'ok', requestId)
  }

  #start (message: ClassifiedRequest, headers: Headers, requestId: string | undefined): PendingRequest {
    const { tool } = message
    const parent = traceContextOf(headers)
    const span = this.deps.tracer.startSpan(tool ? `tools/call ${tool}` : message.method, {
      kind: SpanKind.SERVER,
      attributes: {
        'mcp.method.name': message.method,
        'jsonrpc.request.id': String(message.id),
        ...(tool && { 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool' }),
      },
    }, parent)
    return {
      method: message.method,
      requestId: requestId ?? randomUUID(),
      started: performance.now(),
      span,
      arguments: tool ? message.toolArguments : message.params,
      ...(tool && { record: new CallRecord(tool, trace.setSpan(parent, span)) }),
    }
  }

  /** A notification, or a response to a request of the server's: one line, as it arrives. */
  #writeUnanswered (message: Exclude<ClassifiedMessage, ClassifiedRequest>, outcome: string, requestId?: string): void {
    const method = message.kind === 'notification' ? message.method : 'response'
    const args = message.kind === 'notification' ? message.params : undefined
    this.#write({ requestId: requestId ?? 'none', method, outcome, durationMs: 0, arguments: args })
  }

  /** The id the request `id` is logged under, while it runs. */
  requestIdOf (id: RequestId): string | undefined {
    return this.#pending.get(id)?.requestId
  }

  /** The record the `tools/call` handler fills for the request `id`. */
  callRecord (id: RequestId, tool: string): CallRecord {
    return this.#pending.get(id)?.record ?? new CallRecord(tool)
  }

  /** A message is leaving; a response or error ends its request. */
  sent (message: ClassifiedMessage, sessionId: string | undefined): void {
    if ((message.kind !== 'response' && message.kind !== 'error') || message.id === undefined || message.id === null) return
    const pending = this.#take(message.id)
    if (!pending) return
    if (message.kind === 'error') {
      this.#finish(pending, sessionId, String(message.code), { rpcErrorCode: message.code, error: message.message })
      return
    }
    this.#finish(pending, sessionId, message.result.isError === true ? 'tool_error' : 'ok', { result: message.result })
  }

  /**
   * The transport refused the message with this HTTP status before any handler saw it (a wrong
   * header, a closed session), in the HTTP request `requestId` names, with these headers.
   */
  refused (message: ClassifiedMessage, headers: Headers, requestId: string, status: number, sessionId?: string): void {
    if (message.kind !== 'request') {
      this.#writeUnanswered(message, `http_${status}`, requestId)
      return
    }
    const pending = this.#take(message.id) ?? this.#start(message, headers, requestId)
    this.#finish(pending, sessionId, `http_${status}`, {})
  }

  /** The server is closing: requests still waiting for their response will never get one. */
  abandonAll (sessionId: string | undefined): void {
    for (const pending of this.#pending.values()) this.#finish(pending, sessionId, 'abandoned', {})
    this.#pending.clear()
  }

  /** The request `id` still waiting for its end, now ended: it is no longer pending. */
  #take (id: RequestId): PendingRequest | undefined {
    const pending = this.#pending.get(id)
    this.#pending.delete(id)
    return pending
  }

  #finish (pending: PendingRequest, sessionId: string | undefined, outcome: string, extra: FinishDetails): void {
    const { span, record } = pending
    const { result, ...fields } = extra
    const failed = outcome !== 'ok'
    if (sessionId) span.setAttribute('mcp.session.id', sessionId)
    if (failed) {
      span.setAttribute('error.type', record?.errorCode ?? outcome)
      span.setStatus({ code: SpanStatusCode.ERROR, ...(extra.error && { message: extra.error }) })
    }
    span.end()
    this.#write({
      requestId: pending.requestId,
      method: pending.method,
      sessionId,
      outcome,
      durationMs: performance.now() - pending.started,
      arguments: pending.arguments,
      result,
      fields: { ...record?.logFields(), ...fields },
      level: extra.rpcErrorCode === INTERNAL_ERROR || record?.errorCode === 'internal_error' ? 'error' : !failed ? 'info' : PROBES.has(pending.method) ? 'debug' : 'warn',
    })
  }

  #write ({ requestId, method, sessionId, outcome, durationMs, arguments: args, result, fields = {}, level = 'info' }: {
    requestId: string
    method: string
    sessionId?: string | undefined
    outcome: string
    durationMs: number
    arguments?: unknown
    result?: unknown
    fields?: Record<string, unknown>
    level?: 'debug' | 'info' | 'warn' | 'error'
  }): void {
    this.deps.metrics.mcpMessage(method, outcome)
    const { bodies, log } = this.deps
    const tool = typeof fields.tool === 'string' ? ` ${fields.tool}` : ''
    log[level]({
      reqId: requestId,
      ...(sessionId && { sessionId }),
      rpcMethod: method,
      ...fields,
      outcome,
      durationMs: Math.round(durationMs),
      ...(bodies.enabled && args !== undefined && { arguments: bodies.render(args) }),
      ...(bodies.enabled && result !== undefined && { result: bodies.render(result) }),
    }, `${method}${tool}: ${outcome}`)
  }
}
