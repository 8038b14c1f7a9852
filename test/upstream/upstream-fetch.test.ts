import assert from 'node:assert/strict'
import { getEventListeners, once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { upstreamFetch } from '../../src/upstream/upstream-fetch.js'
import { freePort } from '../support/ports.js'
import { waitFor } from '../support/wait-for.js'

interface Received { method: string, headers: IncomingMessage['headers'], body: string, closedEarly: boolean }

describe('upstreamFetch (the openai SDK\'s fetch)', () => {
  let server: Server
  let base: string
  const received: Received[] = []

  before(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const record = { method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), closedEarly: false }
      received.push(record)
      res.once('close', () => { record.closedEarly = !res.writableFinished })
      if (req.url === '/empty') {
        res.writeHead(204).end()
      } else if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: first\n\n')
      } else {
        res.setHeader('set-cookie', ['a=1', 'b=2'])
        res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'req_1' })
        res.end(JSON.stringify({ ok: true }))
      }
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    server.close()
  })

  test('sends the method, headers and body, and answers with the status, every header and the body', async () => {
    const response = await upstreamFetch(`${base}/json`, { method: 'POST', headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer sk-test' }), body: '{"model":"m"}' })
    assert.equal(response.status, 201)
    assert.equal(response.headers.get('x-request-id'), 'req_1')
    assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2'])
    assert.deepEqual(await response.json(), { ok: true })
    const request = received.at(-1)!
    assert.equal(request.method, 'POST')
    assert.equal(request.headers.authorization, 'Bearer sk-test')
    assert.equal(request.body, '{"model":"m"}')
  })

  test('a Request is sent as fetch would send it, the init winning over it', async () => {
    const response = await upstreamFetch(new Request(`${base}/json`, { method: 'PUT', headers: { 'x-from': 'request' }, body: 'from the request' }), { headers: { 'x-from': 'init' } })
    assert.equal(response.status, 201)
    await response.body?.cancel()
    const request = received.at(-1)!
    assert.equal(request.method, 'PUT')
    assert.equal(request.headers['x-from'], 'init')
    assert.equal(request.body, 'from the request')
  })

  test('a form goes as multipart with its boundary, as fetch would send it', async () => {
    const form = new FormData()
    form.append('purpose', 'batch')
    await (await upstreamFetch(`${base}/form`, { method: 'POST', body: form })).text()
    const request = received.at(-1)!
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(request.headers['content-type'] ?? '')?.[1]
    assert.ok(boundary, request.headers['content-type'])
    assert.match(request.body, new RegExp(`--${boundary}\\r\\nContent-Disposition: form-data; name="purpose"\\r\\n\\r\\nbatch`))
  })

  test('a 204 has no body', async () => {
    const response = await upstreamFetch(`${base}/empty`, { method: 'DELETE' })
    assert.equal(response.status, 204)
    assert.equal(response.body, null)
  })

  test('the call\'s signal stops a body still arriving, and closes the upstream connection', async () => {
    const call = new AbortController()
    const response = await upstreamFetch(`${base}/slow`, { callSignal: call.signal })
    const reader = response.body!.getReader()
    assert.match(new TextDecoder().decode((await reader.read()).value), /data: first/)
    call.abort(new Error('the client cancelled the call'))
    await assert.rejects(reader.read())
    const request = received.at(-1)!
    await waitFor(() => request.closedEarly, 'the upstream connection to close')
    assert.equal(getEventListeners(call.signal, 'abort').length, 0)
  })

  test('cancelling a body still arriving stops the download, and nothing throws later', async () => {
    const response = await upstreamFetch(`${base}/slow`, {})
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel(new Error('not needed'))
    const request = received.at(-1)!
    await waitFor(() => request.closedEarly, 'the upstream connection to close')
  })

  test('the SDK\'s own signal (its timeout) stops the request as well', async () => {
    const sdk = new AbortController()
    const response = await upstreamFetch(`${base}/slow`, { signal: sdk.signal })
    sdk.abort()
    await assert.rejects(response.text())
  })

  test('a finished call leaves no listener on either signal', async () => {
    const call = new AbortController()
    const sdk = new AbortController()
    await (await upstreamFetch(`${base}/json`, { signal: sdk.signal, callSignal: call.signal })).json()
    await waitFor(() => getEventListeners(call.signal, 'abort').length === 0 && getEventListeners(sdk.signal, 'abort').length === 0, 'the listeners to go')
  })

  test('a refused connection fails with the cause the router reports (ECONNREFUSED)', async () => {
    const call = new AbortController()
    await assert.rejects(upstreamFetch(`http://127.0.0.1:${await freePort()}/v1/models`, { callSignal: call.signal }), { code: 'ECONNREFUSED' })
    assert.equal(getEventListeners(call.signal, 'abort').length, 0)
  })
})
