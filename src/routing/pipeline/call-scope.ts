import type { Tracer } from '@opentelemetry/api'
import type { FastifyBaseLogger } from 'fastify'
import type { CallRecord } from '../../observability/call-record.js'
import type { RouterMetrics } from '../../observability/metrics.js'
import type { Deadline } from './deadline.js'

/** UPSTREAM_MAX_RETRIES and UPSTREAM_RETRY_BASE_MS. */
export interface RetrySettings {
  /** Attempts after the first. */
  maxRetries: number
  /**
   * The first backoff; each retry doubles it, up to the retry policy's cap (retry.ts), and waits
   * a random part of it.
   */
  baseDelayMs: number
}

/** What the pipeline writes into the tool call's record (models, attempts, upstream time, retries) and reads back. */
export type UpstreamRecord = Pick<CallRecord, 'routed' | 'attempted' | 'retried' | 'upstreamFinished' | 'attempts' | 'traceContext'>

/**
 * How much the client has been shown of the call's answer so far: a failure after it saw part of
 * it is neither retried nor passed on, as the client cannot unsee it.
 */
export interface ShownToClient {
  /** Characters of answer text handed over for the client so far. */
  readonly streamedCharacters: number
}

/** The client's side of the call: what it has seen of the answer, and where status lines go. */
export interface ClientProgress extends ShownToClient {
  status: (message: string) => void
}

/** Log messages for the client about this call (an MCP client's `notifications/message`). */
export interface ClientNotices {
  write: (level: 'info' | 'warning', message: string, details: Record<string, unknown>) => void
}

/**
 * What an upstream call's pipeline needs of the tool call it serves, and nothing more: its
 * cancellation, its one deadline, its record, what its client has seen and is told, and where its
 * metrics, spans and log lines go.
 */
export interface UpstreamScope {
  /** Aborted when the client cancels, its connection closes, or the router shuts down. */
  signal: AbortSignal
  deadline: Deadline
  retry: RetrySettings
  record: UpstreamRecord
  progress: ClientProgress
  clientLog: ClientNotices
  metrics: Pick<RouterMetrics, 'upstreamCall' | 'upstreamRetry' | 'fallback'>
  tracer: Tracer
  log: FastifyBaseLogger
}
