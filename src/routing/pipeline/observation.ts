import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ToolError, ToolErrorCode } from '../../errors.js'
import type { SpentTokens } from '../../observability/call-record.js'
import type { UpstreamScope } from './call-scope.js'
import type { UpstreamRetry } from './retry.js'
import type { RoutedTarget, UpstreamCall } from './upstream-call.js'

/**
 * Times each call to a target into the call's record, the metrics, a debug log line and a client
 * span; it decides nothing about the call.
 */
export function observation ({ record, metrics, tracer, log }: UpstreamScope) {
  return async <Call extends UpstreamCall, T>(call: Call, next: (call: Call) => Promise<T>): Promise<T> => {
    const { operation: { name }, target: { provider: upstream, model } } = call
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
      const seconds = durationMs / 1000
      metrics.upstreamCall({ provider, operation: name, outcome, ...(status !== undefined && { status }), seconds })
      const ms = Math.round(durationMs)
      log.debug({ provider, operation: name, model, durationMs: ms, outcome, upstreamStatus: status }, 'upstream call finished')
    }
    try {
      const result = await next(call)
      finish('ok')
      if (isAnswer(result)) {
        span.setAttribute('gen_ai.response.model', result.model)
        const { usage } = result
        if (usage) span.setAttributes({ 'gen_ai.usage.input_tokens': usage.inputTokens, 'gen_ai.usage.output_tokens': usage.outputTokens ?? 0 })
      }
      return result
    } catch (err) {
      // The policies inside have made it a ToolError.
      const error = err as ToolError
      finish(error.code, error.details.upstreamStatus)
      span.setAttribute('error.type', error.code)
      const status = error.details.upstreamStatus
      if (status !== undefined) span.setAttribute('http.response.status_code', status)
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
      throw err
    } finally {
      span.end()
    }
  }
}

/** A retry, as the record, the metrics, an info log line and the client's log tell it. */
export function retryReport ({ record, metrics, log, clientLog }: UpstreamScope) {
  return ({ attempt, delayMs, error }: UpstreamRetry, { operation: { name }, target }: UpstreamCall): void => {
    const { provider: { name: provider }, model } = target
    const { code, details: { upstreamStatus } } = error
    record.retried()
    metrics.upstreamRetry({ provider, operation: name, code })
    log.info({ provider, operation: name, model, attempt, delayMs, errorCode: code, upstreamStatus }, `retrying the upstream call in ${delayMs} ms: ${code}`)
    const failed = `${provider}${model ? `/${model}` : ''} failed (${code})`
    clientLog.write('info', `${failed}; retrying in ${delayMs} ms`, { provider, model, attempt, delayMs, errorCode: code })
  }
}

/** Each target a call went to and each passing on to a fallback, for the record, metrics, log and client. */
export function routeReport ({ record, metrics, log, clientLog, progress }: UpstreamScope) {
  return {
    attempted ({ provider, model }: RoutedTarget, outcome: 'ok' | ToolError): void {
      record.attempted({ provider: provider.name, model, outcome: outcome === 'ok' ? outcome : outcome.code })
      if (outcome !== 'ok' && outcome.code === 'circuit_open') {
        clientLog.write('warning', outcome.message, { provider: provider.name, model, errorCode: outcome.code })
      }
    },
    fellBack ({ provider, model }: RoutedTarget, next: RoutedTarget, error: ToolError): void {
      const from = `${provider.name}/${model}`
      const to = `${next.provider.name}/${next.model}`
      const fields = {
        provider: provider.name,
        model,
        fallbackProvider: next.provider.name,
        fallbackModel: next.model,
        errorCode: error.code,
      }
      metrics.fallback({ from: provider.name, to: next.provider.name, reason: error.code })
      log.warn(fields, `falling back from ${from} to ${to}: ${error.code}`)
      clientLog.write('warning', `${from} failed (${error.code}); falling back to ${to}`, fields)
      progress.status(`${from} failed (${error.code}); trying ${to}`)
    },
  }
}

/** What upstream answers that name a model look like: chat results, embeddings, images. */
function isAnswer (value: unknown): value is { model: string, usage?: SpentTokens } {
  return typeof value === 'object' && value !== null && typeof (value as { model?: unknown }).model === 'string'
}
