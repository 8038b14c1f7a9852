import type { UpstreamScope } from '../routing/pipeline/call-scope.js'
import { Deadline } from '../routing/pipeline/deadline.js'
import type { UpstreamContext } from './tool.js'

type ScopeSource = Pick<UpstreamContext, 'settings' | 'signal' | 'record' | 'progress' | 'clientLog' | 'metrics' | 'tracer' | 'log'>

/**
 * What one upstream call of a tool (a chat turn, an embedding, a poll of a stored response) gives
 * the pipeline: the tool call's cancellation, record, progress, client log and telemetry, and the
 * call's one deadline, `timeoutMs` (the tool's `timeout_ms` argument) capped at UPSTREAM_TIMEOUT_MS.
 */
export function upstreamScope (
  { settings, signal, record, progress, clientLog, metrics, tracer, log }: ScopeSource,
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
