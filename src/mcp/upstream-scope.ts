import type { UpstreamScope } from '../routing/pipeline/call-scope.js'
import { Deadline } from '../routing/pipeline/deadline.js'
import type { CallScope, UpstreamServices } from './tool.js'

/**
 * What one upstream call of a tool (a chat turn, an embedding, a poll of a stored response) gives
 * the pipeline: the tool call's cancellation, record, progress, client log and log, the telemetry
 * every tool shares, and the call's one deadline, `timeoutMs` (the tool's `timeout_ms` argument)
 * capped at UPSTREAM_TIMEOUT_MS.
 */
export function upstreamScope (
  { metrics, tracer, settings }: UpstreamServices,
  { signal, record, progress, clientLog, log }: Pick<CallScope, 'signal' | 'record' | 'progress' | 'clientLog' | 'log'>,
  timeoutMs?: number
): UpstreamScope {
  return {
    signal,
    deadline: Deadline.forCall(timeoutMs, settings.UPSTREAM_TIMEOUT_MS),
    retry: { maxRetries: settings.UPSTREAM_MAX_RETRIES, baseDelayMs: settings.UPSTREAM_RETRY_BASE_MS },
    record,
    progress,
    clientLog,
    metrics,
    tracer,
    log,
  }
}
