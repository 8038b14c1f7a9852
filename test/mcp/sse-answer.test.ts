import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { startInProcessStack } from '../support/app.js'

/**
 * The router writes the progress of a POSTed request into its SSE answer itself
 * (src/mcp/sse-answer.ts, src/mcp/transport-adapter.ts), framed as the SDK's transports frame a
 * message, past their `send`. That leans on how SDK 2.4.0 writes a stream: when the SDK moves,
 * these tests say what to check again.
 */
describe('the SSE answer the router writes itself', () => {
  let sends = 0
  const { send } = WebStandardStreamableHTTPServerTransport.prototype
  beforeEach(() => {
    sends = 0
    WebStandardStreamableHTTPServerTransport.prototype.send = async function (...args) {
      sends++
      return send.apply(this, args)
    }
  })
  afterEach(() => { WebStandardStreamableHTTPServerTransport.prototype.send = send })

  test('is written for @modelcontextprotocol/server 2.4.0 (check its transports\' send and SSE framing before moving this pin)', () => {
    const manifest = new URL('../../node_modules/@modelcontextprotocol/server/package.json', import.meta.url)
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
    assert.equal(version, '2.4.0')
  })

  for (const sessions of ['stateless', 'stateful'] as const) {
    test(`${sessions}: progress goes past the SDK transport's send, the result through it, in order`, async () => {
      const stack = await startInProcessStack({ MCP_SESSIONS: sessions, PROGRESS_INTERVAL_MS: '0' })
      try {
        const updates: Progress[] = []
        const prompt = 'a streamed answer in several pieces'
        sends = 0
        const result = await stack.client.callTool({ name: 'chat', arguments: { prompt } }, undefined, { onprogress: (update) => updates.push(update) })
        assert.ok(updates.length > 3, `several progress notifications (${updates.length})`)
        assert.equal(updates.map((update) => update.message ?? '').join(''), `echo: ${prompt}`)
        assert.equal(sends, 1, 'only the result took the SDK transport\'s send')
        assert.equal((result.content as Array<{ text: string }>)[0]?.text, `echo: ${prompt}`)
      } finally {
        await stack.close()
      }
    })
  }

  test('with an event store, progress keeps the SDK\'s path, which gives each event its resumable id', async () => {
    const stack = await startInProcessStack({ MCP_SESSIONS: 'stateful', MCP_EVENT_STORE: 'memory', PROGRESS_INTERVAL_MS: '0' })
    try {
      const updates: Progress[] = []
      sends = 0
      await stack.client.callTool({ name: 'chat', arguments: { prompt: 'a streamed answer in several pieces' } }, undefined, { onprogress: (update) => updates.push(update) })
      assert.ok(updates.length > 3)
      assert.equal(sends, updates.length + 1)
    } finally {
      await stack.close()
    }
  })
})
