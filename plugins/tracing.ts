import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api'
import type { SpanExporter } from '@opentelemetry/sdk-trace'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import pkg from '../package.json' with { type: 'json' }
import { createTracing, setTraceHeaders, traceContextOf } from '../src/observability/tracing.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenTelemetry spans of this app; a no-op tracer unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
    tracer: Tracer
  }
}

export interface TracingPluginOptions {
  /** Receives every span instead of the OTLP endpoint (tests). */
  exporter?: SpanExporter
}

async function tracingPlugin (fastify: FastifyInstance, { exporter }: TracingPluginOptions) {
  const { config } = fastify
  const tracing = await createTracing({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: config.OTEL_SERVICE_NAME,
    serviceVersion: pkg.version,
    ...(exporter && { exporter }),
  })
  fastify.decorate('tracer', tracing.tracer)
  fastify.addHook('onClose', async () => { await tracing.shutdown() })
  if (!tracing.enabled) return

  const spans = new WeakMap<FastifyRequest, Span>()
  const end = (request: FastifyRequest, statusCode: number | undefined) => {
    const span = spans.get(request)
    if (!span) return
    spans.delete(request)
    if (statusCode === undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' })
    } else {
      span.setAttribute('http.response.status_code', statusCode)
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  }

  fastify.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url
    const span = tracing.tracer.startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0],
        ...(route && { 'http.route': route }),
        'client.address': request.ip,
        ...(request.headers['user-agent'] && { 'user_agent.original': request.headers['user-agent'] }),
      },
    }, traceContextOf(request.headers))
    spans.set(request, span)
    // Whatever the request is handed on to (the MCP transport) continues this span's trace.
    setTraceHeaders(trace.setSpan(ROOT_CONTEXT, span), request.headers)
  })
  fastify.addHook('onResponse', async (request, reply) => { end(request, reply.statusCode) })
  fastify.addHook('onRequestAbort', async (request) => { end(request, undefined) })
}

export default fp(tracingPlugin, { name: 'tracing', dependencies: ['config'] })
