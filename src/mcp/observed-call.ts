import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ToolError, ToolErrorCode } from '../errors.js'
import type { SpentTokens } from '../observability/call-record.js'
import type { Provider } from '../routing/provider.js'
import { callUpstream, type UpstreamCallContext } from '../upstream/call.js'
import type { UpstreamEndpoint } from '../upstream/errors.js'
import type { UpstreamContext } from './tool.js'

/** What an upstream call does, as metrics and spans name it (GenAI's `gen_ai.operation.name` where it has one). */
export type UpstreamOperationName = 'chat' | 'embeddings' | 'generate_image' | 'list_models' | 'retrieve_response' | 'cancel_response'

export type UpstreamOperation = Pick<UpstreamCallContext, 'operation' | 'resource'> & {
  name: UpstreamOperationName
  /** The caller's own limit (a `timeout_ms` argument); never above UPSTREAM_TIMEOUT_MS. */
  timeoutMs?: number
}

/** Where one upstream call goes: a provider, and the model it names when it names one. */
export interface UpstreamTarget {
  provider: Provider
  model?: string
}

/**
 * One upstream call on behalf of a tool, to one provider: through its circuit breakers and
 * concurrency limit, cancelled with the tool call, bounded in time, retried by the router's one
 * policy, failures explained; timed into the call's record, the metrics, a debug log line and a
 * client span (what it adds to {@link callUpstream}). Calls that name a model go through
 * {@link routedCall}, which adds fallbacks.
 */
export async function observedCall<T> (context: UpstreamContext, { provider: upstream, model }: UpstreamTarget, { timeoutMs, name, ...what }: UpstreamOperation, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { settings, signal, record, metrics, tracer, log } = context
  const provider = upstream.name
  if (model) record.routed(model)
  const span = tracer.startSpan(model ? `${name} ${model}` : name, {
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': name,
      'gen_ai.provider.name': 'openai',
      'server.address': upstream.url.hostname,
      ...(upstream.url.port && { 'server.port': Number(upstream.url.port) }),
      'mcp_router.provider': provider,
      ...(model && { 'gen_ai.request.model': model }),
    },
  }, record.traceContext)
  const started = performance.now()
  const finish = (outcome: 'ok' | ToolErrorCode, status?: number) => {
    const durationMs = performance.now() - started
    record.upstreamFinished({ provider, model, outcome, durationMs })
    metrics.upstreamCall({ provider, operation: name, outcome, ...(status !== undefined && { status }), seconds: durationMs / 1000 })
    log.debug({ provider, operation: name, model, durationMs: Math.round(durationMs), outcome, upstreamStatus: status }, 'upstream call finished')
  }
  const endpoint = endpointOf(name, upstream)
  const limitMs = Math.min(upstream.config.timeoutMs, settings.UPSTREAM_TIMEOUT_MS)
  const callTimeoutMs = Math.min(timeoutMs ?? limitMs, limitMs)
  try {
    const result = await callUpstream({
      ...what,
      ...(model && { model }),
      ...(endpoint && { endpoint }),
      baseURL: upstream.config.baseURL,
      settingNames: upstream.settingNames,
      // A deadline shorter than the provider's own (the client's timeout_ms) says nothing about the provider's health.
      gate: upstream.gate(model, { countTimeouts: callTimeoutMs === upstream.config.timeoutMs }),
      timeoutMs: callTimeoutMs,
      signal,
      retry: {
        maxRetries: settings.UPSTREAM_MAX_RETRIES,
        baseDelayMs: settings.UPSTREAM_RETRY_BASE_MS,
        shownToClient: () => context.progress.streamedCharacters,
        onRetry: ({ attempt, delayMs, error }) => {
          record.retried()
          metrics.upstreamRetry({ provider, operation: name, code: error.code })
          log.info({ provider, operation: name, model, attempt, delayMs, errorCode: error.code, upstreamStatus: error.details.upstreamStatus }, `retrying the upstream call in ${delayMs} ms: ${error.code}`)
          context.clientLog.write('info', `${provider}${model ? `/${model}` : ''} failed (${error.code}); retrying in ${delayMs} ms`, { provider, model, attempt, delayMs, errorCode: error.code })
        },
      },
    }, call)
    finish('ok')
    if (isAnswer(result)) {
      span.setAttribute('gen_ai.response.model', result.model)
      if (result.usage) span.setAttributes({ 'gen_ai.usage.input_tokens': result.usage.inputTokens, 'gen_ai.usage.output_tokens': result.usage.outputTokens ?? 0 })
    }
    return result
  } catch (err) {
    const error = err as ToolError
    finish(error.code, error.details.upstreamStatus)
    span.setAttribute('error.type', error.code)
    if (error.details.upstreamStatus !== undefined) span.setAttribute('http.response.status_code', error.details.upstreamStatus)
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
    throw err
  } finally {
    span.end()
  }
}

/** What upstream answers that name a model look like: chat results, embeddings, images. */
function isAnswer (value: unknown): value is { model: string, usage?: SpentTokens } {
  return typeof value === 'object' && value !== null && typeof (value as { model?: unknown }).model === 'string'
}

/** The API an operation that names a model calls on a provider (chat's is the provider's `api`, UPSTREAM_API). */
function endpointOf (name: UpstreamOperationName, provider: Provider): UpstreamEndpoint | undefined {
  switch (name) {
    case 'chat': return provider.config.api
    case 'embeddings': return 'embeddings'
    case 'generate_image': return 'images'
    default: return undefined
  }
}
