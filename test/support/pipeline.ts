import { InMemorySpanExporter } from '@opentelemetry/sdk-trace'
import { pino } from 'pino'
import type { ToolError } from '../../src/errors.js'
import { CallRecord } from '../../src/observability/call-record.js'
import { createTracing } from '../../src/observability/tracing.js'
import type { UpstreamScope } from '../../src/routing/pipeline/call-scope.js'
import { Deadline } from '../../src/routing/pipeline/deadline.js'
import type { AttemptExit, UpstreamProvider } from '../../src/routing/pipeline/upstream-call.js'
import { LogCapture } from './logs.js'

/** A provider the pipeline can call: it lets each attempt through (unless `refuse` says no) and keeps how it ended. */
export function fakeProvider (name: string, options: { timeoutMs?: number, refuse?: () => unknown } = {}) {
  const { timeoutMs = 60_000, refuse } = options
  const exits: Array<{ model: string | undefined, countTimeouts: boolean, error: ToolError | undefined }> = []
  const provider: UpstreamProvider = {
    name,
    url: new URL(`http://${name}.test:8080/v1`),
    config: { baseURL: `http://${name}.test:8080/v1`, timeoutMs, api: 'responses' },
    settingNames: { key: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', api: 'UPSTREAM_API' },
    enter: async (model, signal, { countTimeouts }): Promise<AttemptExit> => {
      signal.throwIfAborted()
      const refusal = refuse?.()
      if (refusal) throw refusal
      return (error) => { exits.push({ model, countTimeouts, error }) }
    },
  }
  return { provider, exits }
}

/** Client-side effects a scope produced, in order: client log lines and progress status lines. */
export type ScopeEvent = { clientLog: string, message: string } | { status: string }

/**
 * A scope as a tool call gives it, whose record, metrics, spans, log lines and client messages a
 * test reads back. `limitMs` is the call's deadline, on `now` when given.
 */
export async function recordingScope (options: {
  limitMs?: number
  now?: () => number
  maxRetries?: number
  baseDelayMs?: number
  signal?: AbortSignal
} = {}) {
  const { limitMs = 60_000, now, maxRetries = 0, baseDelayMs = 1, signal = new AbortController().signal } = options
  const record = new CallRecord('chat')
  const logs = new LogCapture()
  const spans = new InMemorySpanExporter()
  const tracing = await createTracing({ endpoint: undefined, serviceName: 'test', serviceVersion: '0', exporter: spans })
  const events: ScopeEvent[] = []
  const metrics = {
    calls: [] as Array<{ provider: string, operation: string, outcome: string, status?: number }>,
    retries: [] as Array<{ provider: string, operation: string, code: string }>,
    fallbacks: [] as Array<{ from: string, to: string, reason: string }>,
  }
  const progress = { streamedCharacters: 0, status: (message: string) => { events.push({ status: message }) } }
  const scope: UpstreamScope = {
    signal,
    deadline: new Deadline(limitMs, now),
    retry: { maxRetries, baseDelayMs },
    record,
    progress,
    clientLog: { write: (level, message) => { events.push({ clientLog: level, message }) } },
    metrics: {
      upstreamCall: ({ provider, operation, outcome, status }) => {
        metrics.calls.push({ provider, operation, outcome, ...(status !== undefined && { status }) })
      },
      upstreamRetry: (retry) => { metrics.retries.push(retry) },
      fallback: (fallback) => { metrics.fallbacks.push(fallback) },
    },
    tracer: tracing.tracer,
    log: pino({ level: 'debug' }, logs.stream),
  }
  return { scope, record, logs, spans, events, metrics, progress }
}
