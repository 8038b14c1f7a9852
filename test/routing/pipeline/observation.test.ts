import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { ToolError } from '../../../src/errors.js'
import { observation, retryReport, routeReport } from '../../../src/routing/pipeline/observation.js'
import { startCall } from '../../../src/routing/pipeline/upstream-call.js'
import { fakeProvider, recordingScope } from '../../support/pipeline.js'

const { provider } = fakeProvider('openai')
const operation = { name: 'chat', operation: 'chat with gpt-test' } as const

describe('observation', () => {
  test('an answer: the record\'s upstream time and provider, the call metric, a debug line and a client span with the answer\'s model and usage', async () => {
    const { scope, record, logs, spans, metrics } = await recordingScope()
    const call = startCall(operation, { provider, model: 'gpt-test' }, scope.signal, scope.deadline)
    const answer = { model: 'gpt-test-2025', usage: { inputTokens: 3, outputTokens: 4 } }
    assert.equal(await observation(scope)(call, async () => answer), answer)
    assert.equal(record.modelRequested, 'gpt-test')
    assert.equal(record.providerAnswered, 'openai')
    assert.deepEqual(record.upstream.map(({ provider, model, outcome }) => ({ provider, model, outcome })), [{ provider: 'openai', model: 'gpt-test', outcome: 'ok' }])
    assert.deepEqual(metrics.calls, [{ provider: 'openai', operation: 'chat', outcome: 'ok' }])
    assert.equal(logs.find({ msg: 'upstream call finished', provider: 'openai', operation: 'chat', outcome: 'ok' }).length, 1)
    const [span] = spans.getFinishedSpans()
    assert.equal(span?.name, 'chat gpt-test')
    assert.equal(span.kind, SpanKind.CLIENT)
    assert.equal(span.attributes['server.address'], 'openai.test')
    assert.equal(span.attributes['server.port'], 8080)
    assert.equal(span.attributes['gen_ai.response.model'], 'gpt-test-2025')
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], 4)
  })

  test('a failure: its code as the outcome everywhere, the upstream status on the metric and span, and no provider answered', async () => {
    const { scope, record, spans, metrics } = await recordingScope()
    const call = startCall({ name: 'retrieve_response', operation: 'fetching response resp_1' }, { provider }, scope.signal, scope.deadline)
    const failure = new ToolError('not_found', 'no such response', { retryable: false, upstreamStatus: 404 })
    await assert.rejects(observation(scope)(call, async () => { throw failure }), (error) => error === failure)
    assert.equal(record.providerAnswered, undefined)
    assert.equal(record.upstream[0]?.outcome, 'not_found')
    assert.deepEqual(metrics.calls, [{ provider: 'openai', operation: 'retrieve_response', outcome: 'not_found', status: 404 }])
    const [span] = spans.getFinishedSpans()
    assert.equal(span?.name, 'retrieve_response')
    assert.equal(span.attributes['error.type'], 'not_found')
    assert.equal(span.attributes['http.response.status_code'], 404)
    assert.equal(span.status.code, SpanStatusCode.ERROR)
  })

  test('a retry: counted in the record and the metrics, an info line, and a message for the client', async () => {
    const { scope, record, logs, metrics, events } = await recordingScope()
    const call = startCall(operation, { provider, model: 'gpt-test' }, scope.signal, scope.deadline)
    const error = new ToolError('rate_limited', 'HTTP 429', { retryable: true, upstreamStatus: 429 })
    retryReport(scope)({ attempt: 1, delayMs: 250, error }, call)
    assert.equal(record.retries, 1)
    assert.deepEqual(metrics.retries, [{ provider: 'openai', operation: 'chat', code: 'rate_limited' }])
    assert.equal(logs.find({ msg: 'retrying the upstream call in 250 ms: rate_limited', upstreamStatus: 429 }).length, 1)
    assert.deepEqual(events, [{ clientLog: 'info', message: 'openai/gpt-test failed (rate_limited); retrying in 250 ms' }])
  })

  test('attempts and fallbacks: the record\'s attempts, the fallback metric, a warning line, and the client told', async () => {
    const { scope, record, logs, metrics, events } = await recordingScope()
    const report = routeReport(scope)
    const local = fakeProvider('local').provider
    const open = new ToolError('circuit_open', 'Provider "openai" kept failing.', { retryable: true })
    report.attempted({ provider, model: 'gpt-test' }, open)
    report.fellBack({ provider, model: 'gpt-test' }, { provider: local, model: 'llama' }, open)
    report.attempted({ provider: local, model: 'llama' }, 'ok')
    assert.deepEqual(record.attempts, [
      { provider: 'openai', model: 'gpt-test', outcome: 'circuit_open' },
      { provider: 'local', model: 'llama', outcome: 'ok' },
    ])
    assert.deepEqual(metrics.fallbacks, [{ from: 'openai', to: 'local', reason: 'circuit_open' }])
    assert.equal(logs.find({ msg: 'falling back from openai/gpt-test to local/llama: circuit_open', fallbackProvider: 'local' }).length, 1)
    assert.deepEqual(events, [
      { clientLog: 'warning', message: 'Provider "openai" kept failing.' },
      { clientLog: 'warning', message: 'openai/gpt-test failed (circuit_open); falling back to local/llama' },
      { status: 'openai/gpt-test failed (circuit_open); trying local/llama' },
    ])
  })
})
