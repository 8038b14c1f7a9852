import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { loggerOptions, cleanLogLine } from '../../src/observability/logger.js'

function logLine (fields: Record<string, unknown>): Record<string, any> {
  const lines: string[] = []
  const destination = new Writable({
    write (chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const log = pino(loggerOptions({}) as object, destination)
  log.info(fields, 'line')
  return JSON.parse(lines[0] as string)
}

test('secret-named fields are censored at the top, one level down, in headers one level down, and in errors', () => {
  const error = Object.assign(new Error('boom'), { headers: { authorization: 'Bearer in-error' }, token: 'error-token' })
  const line = logLine({
    apiKey: 'top',
    provider: { name: 'openai', apiKey: 'nested' },
    upstream: { headers: { authorization: 'Bearer header', 'x-api-key': 'header-key', accept: 'application/json' } },
    req: { headers: { cookie: 'session=1' } },
    err: error,
  })
  assert.equal(line.apiKey, '[redacted]')
  assert.deepEqual(line.provider, { name: 'openai', apiKey: '[redacted]' })
  assert.deepEqual(line.upstream.headers, { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' })
  assert.equal(line.req.headers.cookie, '[redacted]')
  assert.equal(line.err.message, 'boom', 'an error is still logged as an error')
  assert.equal(line.err.headers.authorization, '[redacted]')
  assert.equal(line.err.token, '[redacted]')
})

test('the logged objects themselves are left as they were, and a clean line is not copied', () => {
  const provider = { name: 'openai', apiKey: 'sk-live' }
  const line = { provider }
  assert.deepEqual(cleanLogLine(line), { provider: { name: 'openai', apiKey: '[redacted]' } })
  assert.equal(provider.apiKey, 'sk-live')
  const clean = { tool: 'chat', usage: { inputTokens: 3 } }
  assert.equal(cleanLogLine(clean), clean)
})

test('an error without a stack, or a thrown value that is not an Error, is logged, not a crash of the logger', () => {
  const stackless = Object.assign(new Error('no stack'), { stack: undefined })
  assert.equal(logLine({ err: stackless }).err.message, 'no stack')
  assert.equal(logLine({ err: { code: 'ECONNRESET' } }).err.code, 'ECONNRESET')
  assert.equal(logLine({ err: 'a string thrown' }).err, 'a string thrown')
})
