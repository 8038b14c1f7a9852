import { type Context, ProxyTracerProvider, ROOT_CONTEXT, type TextMapGetter, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace'
import { boundedText } from '../bounded-text.js'

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans are exported there (OTLP over HTTP, `/v1/traces`). */
  endpoint: string | undefined
  serviceName: string
  serviceVersion: string
  /** An exporter to use instead of OTLP (tests use an in-memory one); it gets every span as it ends. */
  exporter?: SpanExporter
}

export interface Tracing {
  enabled: boolean
  tracer: Tracer
  /** Exports the spans still buffered and stops. */
  shutdown: () => Promise<void>
}

/**
 * The longest span name or string attribute: both may quote a client's strings (a tool name, a
 * model name, a JSON-RPC method), which may be megabytes long.
 */
const MAX_SPAN_TEXT_CHARS = 256

/** Cuts a span's name to {@link MAX_SPAN_TEXT_CHARS} as it starts (attribute values the SDK's own span limits cut). */
const boundedSpanNames: SpanProcessor = {
  onStart: (span) => {
    if (span.name.length > MAX_SPAN_TEXT_CHARS) span.updateName(boundedText(span.name, MAX_SPAN_TEXT_CHARS))
  },
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
}

/**
 * The router's tracer. Without an endpoint (or exporter) it is the OpenTelemetry API's no-op
 * tracer: the SDK is not even loaded, and spans cost a function call.
 */
export async function createTracing (
  { endpoint, serviceName, serviceVersion, exporter }: TracingOptions
): Promise<Tracing> {
  if (!endpoint && !exporter) {
    return { enabled: false, tracer: new ProxyTracerProvider().getTracer(serviceName), shutdown: async () => {} }
  }
  const [{ TracerProvider, BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
  ])
  const processor = exporter
    ? new SimpleSpanProcessor({ exporter })
    : new BatchSpanProcessor({ exporter: new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: `${endpoint?.replace(/\/+$/, '')}/v1/traces` }) })
  // Not registered globally: each app has its own provider, and the router passes trace contexts explicitly.
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': serviceVersion }),
    spanLimits: { attributeValueLengthLimit: MAX_SPAN_TEXT_CHARS },
    spanProcessors: [boundedSpanNames, processor],
  })
  return { enabled: true, tracer: provider.getTracer(serviceName, serviceVersion), shutdown: () => provider.shutdown() }
}

const propagator = new W3CTraceContextPropagator()

type HeaderCarrier = Headers | Record<string, string | string[] | undefined>

const headerGetter: TextMapGetter<HeaderCarrier> = {
  get: (carrier, key) => carrier instanceof Headers ? carrier.get(key) ?? undefined : carrier[key],
  keys: (carrier) => carrier instanceof Headers ? [...carrier.keys()] : Object.keys(carrier),
}

/** The trace context a request's `traceparent` header names, or the root (a new trace). */
export function traceContextOf (headers: HeaderCarrier): Context {
  return propagator.extract(ROOT_CONTEXT, headers, headerGetter)
}

/** Writes `context`'s span into `headers` as `traceparent` (and `tracestate`), replacing what was there. */
export function setTraceHeaders (context: Context, headers: Record<string, string | string[] | undefined>): void {
  propagator.inject(context, headers, { set: (carrier, key, value) => { carrier[key] = value } })
}
