import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { buildApp } from '../../src/app.js'
import { errorBody, FakeOpenAI } from '../support/fake-openai.js'
import { connectInProcess, startInProcessStack } from '../support/app.js'
import { connectClient, startRouter, TEST_API_KEY } from '../support/router.js'
import { waitFor } from '../support/wait-for.js'

const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN_ID = '00f067aa0ba902b7'

function spanNamed (spans: ReadableSpan[], name: string): ReadableSpan {
  const span = spans.find((candidate) => candidate.name === name)
  assert.ok(span, `a span named ${name} among ${spans.map((candidate) => candidate.name).join(', ')}`)
  return span
}

describe('tracing', () => {
  test('a tool call makes HTTP → MCP → upstream spans under the caller\'s trace, with GenAI attributes', async () => {
    const exporter = new InMemorySpanExporter()
    const stack = await startInProcessStack({ MODEL: 'gpt-4.1-mini' }, { spanExporter: exporter })
    try {
      // The SDK client sends these headers with every request; the tool call is the one that matters.
      const client = await connectInProcess(stack.app, { headers: { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` } })
      stack.upstream.script('POST /v1/responses', { json: stack.upstream.responseBody('gpt-4.1-mini-2025-04-14', 'Hi!') })
      await client.callTool({ name: 'chat', arguments: { prompt: 'Hello' } })
      await client.close()
      await waitFor(() => exporter.getFinishedSpans().some((span) => span.name === 'tools/call chat'), 'the MCP span')

      const spans = exporter.getFinishedSpans()
      const mcp = spanNamed(spans, 'tools/call chat')
      const upstream = spanNamed(spans, 'chat gpt-4.1-mini')
      await waitFor(() => exporter.getFinishedSpans().some((span) => span.spanContext().spanId === mcp.parentSpanContext?.spanId), 'the HTTP span')
      const http = exporter.getFinishedSpans()
        .find((span) => span.spanContext().spanId === mcp.parentSpanContext?.spanId)
      assert.ok(http)

      assert.equal(http.name, 'POST /mcp')
      assert.equal(http.kind, SpanKind.SERVER)
      assert.equal(http.spanContext().traceId, CLIENT_TRACE_ID)
      assert.equal(http.parentSpanContext?.spanId, CLIENT_SPAN_ID)
      assert.equal(http.attributes['http.response.status_code'], 200)
      assert.equal(http.attributes['http.route'], '/mcp')

      assert.equal(mcp.kind, SpanKind.SERVER)
      assert.equal(mcp.spanContext().traceId, CLIENT_TRACE_ID)
      assert.equal(mcp.attributes['mcp.method.name'], 'tools/call')
      assert.equal(mcp.attributes['gen_ai.tool.name'], 'chat')
      assert.equal(mcp.status.code, SpanStatusCode.UNSET)

      assert.equal(upstream.kind, SpanKind.CLIENT)
      assert.equal(upstream.parentSpanContext?.spanId, mcp.spanContext().spanId)
      assert.equal(upstream.attributes['gen_ai.operation.name'], 'chat')
      assert.equal(upstream.attributes['gen_ai.request.model'], 'gpt-4.1-mini')
      assert.equal(upstream.attributes['gen_ai.response.model'], 'gpt-4.1-mini-2025-04-14')
      assert.equal(upstream.attributes['gen_ai.usage.input_tokens'], 11)
      assert.equal(upstream.attributes['gen_ai.usage.output_tokens'], 7)
      assert.equal(upstream.attributes['server.address'], new URL(stack.upstream.baseURL).hostname)
      assert.equal(upstream.attributes['server.port'], Number(new URL(stack.upstream.baseURL).port))
      assert.equal(upstream.attributes['mcp_router.provider'], 'openai')
    } finally {
      await stack.close()
    }
  })

  test('failures mark the upstream and MCP spans as errors with their error type', async () => {
    const exporter = new InMemorySpanExporter()
    const stack = await startInProcessStack({}, { spanExporter: exporter })
    try {
      stack.upstream.script('POST /v1/responses', { status: 429, json: errorBody('Slow down', 'rate_limit_error') })
      const result = await stack.client.callTool({ name: 'chat', arguments: { prompt: 'Hello', model: 'gpt-4.1' } })
      assert.equal(result.isError, true)
      await waitFor(() => exporter.getFinishedSpans().some((span) => span.name === 'tools/call chat'), 'the MCP span')
      const spans = exporter.getFinishedSpans()
      const upstream = spanNamed(spans, 'chat gpt-4.1')
      assert.equal(upstream.status.code, SpanStatusCode.ERROR)
      assert.equal(upstream.attributes['error.type'], 'rate_limited')
      assert.equal(upstream.attributes['http.response.status_code'], 429)
      const mcp = spanNamed(spans, 'tools/call chat')
      assert.equal(mcp.status.code, SpanStatusCode.ERROR)
      assert.equal(mcp.attributes['error.type'], 'rate_limited')
    } finally {
      await stack.close()
    }
  })

  test('OTEL_EXPORTER_OTLP_ENDPOINT: spans reach the collector over OTLP/HTTP', async () => {
    const received: Array<{ url: string, headers: IncomingHttpHeaders, body: string }> = []
    const collector = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
      req.on('end', () => {
        received.push({ url: req.url ?? '', headers: req.headers, body })
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    collector.listen(0, '127.0.0.1')
    await once(collector, 'listening')
    const upstream = await FakeOpenAI.start()
    const router = await startRouter(upstream, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, OTEL_SERVICE_NAME: 'router-under-test' })
    try {
      const client = await connectClient(router)
      await client.callTool({ name: 'echo', arguments: { text: 'hi' } })
      await client.close()
    } finally {
      // Closing flushes the batch of spans.
      await router.close()
      await upstream.close()
      collector.close()
    }
    const exports = received.filter((request) => request.url === '/v1/traces')
    assert.ok(exports.length >= 1)
    const body = exports.map((request) => request.body).join('\n')
    assert.ok(body.includes('tools/call echo'))
    assert.ok(body.includes('router-under-test'))
    assert.ok(!body.includes(TEST_API_KEY))
  })

  test('without an endpoint the tracer records nothing', async () => {
    const app = await buildApp({ env: { OPENAI_API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent', READY_CHECK_UPSTREAM: 'false' } })
    try {
      const span = app.tracer.startSpan('probe')
      assert.equal(span.isRecording(), false)
      span.end()
    } finally {
      await app.close()
    }
  })
})
